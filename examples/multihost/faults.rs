//! The faults of each scenario, injected while the fleet drains the queue.
//!
//! * kill: every 1.5-2.5 s, SIGKILL all workers of one host (h1, h2, h3 in turn) as soon
//!   as they hold a lease, respawn them 300 ms later;
//! * cut: take one host's link down (`ip link set aom-hNr down`, the bridge side) as soon
//!   as it holds two leases, for three lease lengths, then up again;
//! * restart: `scripts/pg-cluster restart DIR` (`pg_ctl restart -m fast`);
//! * skew: the fleet already runs under libfaketime; after 3-4 s h2 (+5 min) is killed
//!   for good, holding leases, so that only the -5 min hosts recover them and promote the
//!   postponed operations due afterwards.

use crate::fleet::{Fleet, root_veth};
use crate::scenario::Config;
use crate::{AnyResult, Rng};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Faults {
    /// Hosts whose workers were all SIGKILLed, and how many workers that was.
    pub kills: u32,
    pub killed_workers: usize,
    /// Host kills (or cuts) that found leases held.
    pub kills_holding: u32,
    pub cuts: u32,
    pub cuts_holding: u32,
    pub restarts: u32,
    /// Client connections the server terminated (its log), during the scenario.
    pub terminated: usize,
}

pub fn inject(
    c: &Config,
    name: &str,
    fleet: &mut Fleet,
    rng: &mut Rng,
    f: &mut Faults,
) -> AnyResult<()> {
    match name {
        "kill" => {
            for i in 0..c.kills {
                pause(fleet, rng.range(1_500, 2_500))?;
                let host = 1 + (i as usize % c.hosts);
                f.kills_holding += u32::from(wait_holding(fleet, host, 1)?);
                f.killed_workers += fleet.kill_host(host)?;
                f.kills += 1;
                pause(fleet, 300)?;
                fleet.respawn_host(host)?;
            }
        }
        "cut" => {
            for i in 0..c.cuts {
                pause(fleet, rng.range(1_500, 2_500))?;
                let host = 1 + ((i as usize + 1) % c.hosts);
                // Two leases held: a late call is then all but sure to come (one complete may
                // have reached the server just before the cut and be answered ok after it).
                f.cuts_holding += u32::from(wait_holding(fleet, host, 2)?);
                let link = root_veth(host);
                command("ip", &["link", "set", "dev", &link, "down"])?;
                f.cuts += 1;
                let cut = pause(fleet, c.lease_ms * 3);
                // Always restore the link, even when the pause failed.
                command("ip", &["link", "set", "dev", &link, "up"])?;
                cut?;
                pause(fleet, c.lease_ms)?;
            }
        }
        "restart" => {
            for _ in 0..c.restarts {
                pause(fleet, rng.range(2_500, 3_500))?;
                let dir = c.pg_dir.to_string_lossy().into_owned();
                let t = Instant::now();
                command("scripts/pg-cluster", &["restart", &dir])?;
                println!(
                    "multihost: restart: PostgreSQL restarted in {:.1} s",
                    t.elapsed().as_secs_f64()
                );
                f.restarts += 1;
            }
        }
        "skew" => {
            pause(fleet, rng.range(3_000, 4_000))?;
            f.kills_holding += u32::from(wait_holding(fleet, 2, 1)?);
            f.killed_workers += fleet.kill_host(2)?;
            f.kills += 1;
        }
        other => return Err(format!("unknown scenario {other}")),
    }
    Ok(())
}

/// Sleeps `ms`, respawning workers that exited by themselves meanwhile.
fn pause(fleet: &mut Fleet, ms: u64) -> AnyResult<()> {
    let end = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < end {
        fleet.reap()?;
        sleep(Duration::from_millis(20).min(end.saturating_duration_since(Instant::now())));
    }
    Ok(())
}

/// Waits up to 3 s for `host`'s workers to hold `want` leases (then settles for one);
/// whether they held any.
fn wait_holding(fleet: &mut Fleet, host: usize, want: usize) -> AnyResult<bool> {
    let end = Instant::now() + Duration::from_secs(3);
    let mut held = 0;
    while Instant::now() < end {
        held = fleet.holding(host);
        if held >= want {
            return Ok(true);
        }
        pause(fleet, 5)?;
    }
    Ok(held > 0)
}

fn command(program: &str, args: &[&str]) -> AnyResult<()> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {}: {}: {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// How many client connections the server has terminated so far ("terminating connection
/// due to administrator command" in its log): the proof that a restart hit live sessions.
pub fn terminated_connections(c: &Config) -> usize {
    std::fs::read_to_string(c.pg_dir.join("server.log"))
        .map(|t| {
            t.matches("terminating connection due to administrator command")
                .count()
        })
        .unwrap_or(0)
}
