//! The worker processes of one scenario: spawned inside their host's network namespace
//! (`ip netns exec aom-hN`, which execs, so the child's pid is the worker's), optionally
//! under libfaketime, SIGKILLed and respawned under a new incarnation (a new log file).

use crate::AnyResult;
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// libfaketime as Debian's `libfaketime` package installs it.
pub const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// The network namespace of host `h` (1-based), made by scripts/multihost.
pub fn netns(host: usize) -> String {
    format!("aom-h{host}")
}

/// The root-namespace end of host `h`'s veth pair (on the bridge): the link a cut takes down.
pub fn root_veth(host: usize) -> String {
    format!("aom-h{host}r")
}

struct Slot {
    host: usize,
    index: usize,
    incarnation: u32,
    child: Option<Child>,
    log: PathBuf,
}

/// What every worker of a scenario shares.
pub struct FleetConfig {
    pub exe: PathBuf,
    pub url: String,
    pub schema: String,
    pub logs: PathBuf,
    pub seed: u64,
    pub lease_ms: u64,
    pub work: (u64, u64),
    /// Per host (index 0 = h1): a libfaketime offset such as "+300", or None.
    pub faketime: Vec<Option<String>>,
}

pub struct Fleet {
    c: FleetConfig,
    slots: Vec<Slot>,
    /// Worker processes that ended by themselves (each is respawned).
    pub unexpected_exits: u32,
}

impl Fleet {
    pub fn start(c: FleetConfig, hosts: usize, per_host: usize) -> AnyResult<Fleet> {
        let mut fleet = Fleet {
            c,
            slots: Vec::new(),
            unexpected_exits: 0,
        };
        for host in 1..=hosts {
            for index in 0..per_host {
                fleet.slots.push(Slot {
                    host,
                    index,
                    incarnation: 0,
                    child: None,
                    log: PathBuf::new(),
                });
            }
        }
        for i in 0..fleet.slots.len() {
            fleet.spawn(i)?;
        }
        Ok(fleet)
    }

    fn spawn(&mut self, i: usize) -> AnyResult<()> {
        let c = &self.c;
        let slot = &mut self.slots[i];
        slot.incarnation += 1;
        let tag = format!("h{}-w{}-{}", slot.host, slot.index, slot.incarnation);
        slot.log = c.logs.join(format!("{tag}.log"));
        let seed = c
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add((slot.host * 1_000 + slot.index * 100) as u64)
            .wrapping_add(u64::from(slot.incarnation));
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &netns(slot.host), "env"]);
        if let Some(Some(offset)) = c.faketime.get(slot.host - 1) {
            cmd.arg(format!("LD_PRELOAD={FAKETIME_LIB}"))
                .arg(format!("FAKETIME={offset}"))
                .arg("FAKETIME_DONT_FAKE_MONOTONIC=1");
        }
        cmd.arg(&c.exe)
            .arg("worker")
            .arg(&c.url)
            .arg(&c.schema)
            .arg(&tag)
            .arg(&slot.log)
            .arg(seed.to_string())
            .arg(c.lease_ms.to_string())
            .arg(c.work.0.to_string())
            .arg(c.work.1.to_string())
            .stdin(Stdio::null());
        slot.child = Some(cmd.spawn().map_err(|e| format!("spawn {tag}: {e}"))?);
        Ok(())
    }

    /// SIGKILLs every worker of `host` and reaps them; returns how many were killed.
    pub fn kill_host(&mut self, host: usize) -> AnyResult<usize> {
        let mut n = 0;
        for slot in self.slots.iter_mut().filter(|s| s.host == host) {
            if let Some(mut child) = slot.child.take() {
                let _ = child.kill();
                child.wait().map_err(|e| format!("wait: {e}"))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Starts new incarnations of `host`'s killed workers.
    pub fn respawn_host(&mut self, host: usize) -> AnyResult<()> {
        for i in 0..self.slots.len() {
            if self.slots[i].host == host && self.slots[i].child.is_none() {
                self.spawn(i)?;
            }
        }
        Ok(())
    }

    /// Respawns workers that exited by themselves (counted: a worker should never exit).
    pub fn reap(&mut self) -> AnyResult<()> {
        for i in 0..self.slots.len() {
            let exited = match self.slots[i].child.as_mut() {
                Some(c) => c.try_wait().map_err(|e| format!("try_wait: {e}"))?,
                None => None,
            };
            if let Some(status) = exited {
                let s = &self.slots[i];
                eprintln!(
                    "multihost: worker h{}-w{}-{} exited by itself: {status}",
                    s.host, s.index, s.incarnation
                );
                self.unexpected_exits += 1;
                self.slots[i].child = None;
                self.spawn(i)?;
            }
        }
        Ok(())
    }

    /// Leases the running workers of `host` hold now (START without STOP in their logs).
    pub fn holding(&self, host: usize) -> usize {
        let mut held = 0;
        for slot in self
            .slots
            .iter()
            .filter(|s| s.host == host && s.child.is_some())
        {
            let text = std::fs::read_to_string(&slot.log).unwrap_or_default();
            let mut open: HashSet<(&str, &str)> = HashSet::new();
            for line in text.lines() {
                let f: Vec<&str> = line.split(' ').collect();
                match (f.first(), f.get(1), f.get(2)) {
                    (Some(&"START"), Some(id), Some(token)) => {
                        open.insert((id, token));
                    }
                    (Some(&"STOP"), Some(id), Some(token)) => {
                        open.remove(&(*id, *token));
                    }
                    _ => {}
                }
            }
            held += open.len();
        }
        held
    }

    /// SIGKILLs and reaps every worker (the end of a scenario; not counted as a fault).
    pub fn stop_all(&mut self) {
        for slot in &mut self.slots {
            if let Some(mut child) = slot.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.stop_all();
    }
}
