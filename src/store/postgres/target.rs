//! What a PostgreSQL target names: a URL (`postgres://`, `postgresql://`) or a
//! key=value conninfo string, with asyncop's own parameters taken out before
//! the driver reads the rest, and the form shown in messages (no password).

use super::PgOptions;
use super::tls::SslMode;
use crate::error::{Error, Result};
use postgres::Config;

/// The parameters asyncop reads from a target itself; every other one goes to
/// the driver. They let C, Python and .NET choose a schema or a pool size
/// through the one open call.
/// `sslmode` and `sslrootcert` are libpq's names, read here because the
/// driver knows fewer modes and no root file.
const OWN_PARAMETERS: [&str; 4] = ["schema", "pool_size", "sslmode", "sslrootcert"];

/// Whether `target` names a PostgreSQL database rather than a file: a
/// `postgres://` or `postgresql://` URL, or a key=value conninfo string whose
/// first word is `host=`, `hostaddr=`, `dbname=`, `user=` or `port=`.
pub fn is_postgres_target(target: &str) -> bool {
    let t = target.trim_start();
    t.starts_with("postgres://")
        || t.starts_with("postgresql://")
        || ["host=", "dbname=", "user=", "port=", "hostaddr="]
            .iter()
            .any(|k| t.starts_with(k))
}

/// Takes asyncop's own parameters (`schema`, `pool_size`, `sslmode`,
/// `sslrootcert`) out of `target`
/// into `options` (a parameter in the target wins over the option) and returns
/// what is left for the driver.
pub(super) fn take_own_parameters(target: &str, options: &mut PgOptions) -> Result<String> {
    let target = target.trim();
    let is_url = target.starts_with("postgres://") || target.starts_with("postgresql://");
    let mut own = Vec::new();
    let rest = if is_url {
        match target.split_once('?') {
            None => target.to_owned(),
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    if OWN_PARAMETERS.contains(&key) {
                        own.push((key.to_owned(), value.to_owned()));
                    } else {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        let mut kept = Vec::new();
        for word in target.split_whitespace() {
            match word.split_once('=') {
                Some((key, value)) if OWN_PARAMETERS.contains(&key.trim()) => {
                    own.push((key.trim().to_owned(), value.trim().to_owned()));
                }
                _ => kept.push(word),
            }
        }
        kept.join(" ")
    };
    for (key, value) in own {
        match key.as_str() {
            "schema" => options.schema = value,
            "sslmode" => options.ssl_mode = SslMode::parse(&value)?,
            "sslrootcert" => options.ssl_root_cert = Some(value.into()),
            _ => {
                options.pool_size = value.parse().map_err(|_| {
                    Error::InvalidArgument(format!(
                        "pool_size must be a whole number, got {value:?}"
                    ))
                })?
            }
        }
    }
    Ok(rest)
}

/// The target without its password, for messages.
pub(super) fn redacted(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    let hosts: Vec<String> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| match ports.get(i).or(ports.first()) {
            Some(p) => format!("{h}:{p}"),
            None => h.clone(),
        })
        .collect();
    format!(
        "postgres://{}@{}/{}",
        config.get_user().unwrap_or(""),
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(target: &str) -> (String, PgOptions) {
        let mut options = PgOptions::default();
        let rest = take_own_parameters(target, &mut options).unwrap();
        (rest, options)
    }

    #[test]
    fn url_parameters_are_taken_out() {
        let (rest, o) = split(
            "postgres://u@h:5/db?schema=jobs&connect_timeout=3&pool_size=7&sslmode=verify-full",
        );
        assert_eq!(rest, "postgres://u@h:5/db?connect_timeout=3");
        assert_eq!((o.schema.as_str(), o.pool_size), ("jobs", 7));
        assert_eq!(o.ssl_mode, SslMode::VerifyFull);
        let (rest, o) = split("postgresql://h/db?schema=s1");
        assert_eq!(
            (rest.as_str(), o.schema.as_str()),
            ("postgresql://h/db", "s1")
        );
    }

    #[test]
    fn conninfo_parameters_are_taken_out() {
        let (rest, o) = split("host=h dbname=db schema=jobs pool_size=2 user=u");
        assert_eq!(rest, "host=h dbname=db user=u");
        assert_eq!((o.schema.as_str(), o.pool_size), ("jobs", 2));
    }

    #[test]
    fn a_bad_pool_size_is_refused() {
        let mut o = PgOptions::default();
        let e = take_own_parameters("postgres://h/db?pool_size=many", &mut o).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
    }
}
