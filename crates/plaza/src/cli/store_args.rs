//! The flags every command that opens the store shares (`--data`, `--database`, `--config`), and
//! the one way to turn them into configuration and services.

use crate::config::{PlazaConfig, Sources};
use anyhow::Context;
use clap::Args;
use plaza_core::service::Services;
use plaza_core::SystemClock;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the store is.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Data directory for the embedded SQLite store and blobs [env: PLAZA_DATA_DIR] [default: ./plaza-data].
    #[arg(long = "data", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Store URL, `sqlite://PATH` or `postgres://…` [env: PLAZA_DATABASE_URL] [default: sqlite in the data directory].
    #[arg(long = "database", value_name = "URL")]
    pub database: Option<String>,
    /// TOML configuration file [env: PLAZA_CONFIG] [default: ./plaza.toml when present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl StoreArgs {
    /// The configuration with these flags applied over file and environment.
    pub fn config(&self) -> anyhow::Result<PlazaConfig> {
        let mut config = PlazaConfig::load(&Sources::from_process(self.config.as_deref()))?;
        if let Some(d) = &self.data {
            config.data_dir = d.clone();
        }
        if let Some(u) = &self.database {
            config.database_url = Some(u.clone());
        }
        Ok(config)
    }

    /// Opens the store of `config` only if it already exists: for commands that inspect, where a
    /// mistyped `--data` must be an error, not a fresh empty database.
    pub async fn open_existing(config: &PlazaConfig) -> anyhow::Result<Services> {
        if let Some(path) = Self::database_file(config) {
            if !path.exists() {
                anyhow::bail!(
                    "no Plaza database at {}; point --data (or --database) at an existing one",
                    path.display()
                );
            }
        }
        Self::open(config).await
    }

    /// The SQLite file of `config`'s store (`plaza.db` in the data directory, or the file of an
    /// SQLite URL); `None` for a server database such as PostgreSQL.
    pub fn database_file(config: &PlazaConfig) -> Option<PathBuf> {
        match &config.database_url {
            None => Some(config.data_dir.join("plaza.db")),
            Some(url) => sqlite_path(url),
        }
    }

    /// Opens (creating and migrating as needed) the store of `config`.
    pub async fn open(config: &PlazaConfig) -> anyhow::Result<Services> {
        if config.database_url.is_none() {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!(
                    "cannot create the data directory {}",
                    config.data_dir.display()
                )
            })?;
        }
        let store = plaza_store::connect(&config.store_url()).await?;
        Ok(Services::new(store, Arc::new(SystemClock)))
    }
}

/// `config`'s store URL as it may be printed: a password in it replaced by `***`.
pub fn printable_store_url(config: &PlazaConfig) -> String {
    without_password(&config.store_url())
}

/// `url` with the password of its `user:password@` part, if any, replaced by `***`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// The file behind an SQLite URL (`sqlite://PATH` or `sqlite:PATH`, query string ignored).
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = percent_decode(rest.split('?').next().unwrap_or(rest));
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path("sqlite:///srv/my%20data/plaza.db?mode=rwc"),
            Some(PathBuf::from("/srv/my data/plaza.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:plaza.db"),
            Some(PathBuf::from("plaza.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }

    #[test]
    fn printed_urls_hide_passwords() {
        assert_eq!(
            without_password("postgres://plaza:s3cret@db.example:5432/plaza?sslmode=require"),
            "postgres://plaza:***@db.example:5432/plaza?sslmode=require"
        );
        assert_eq!(
            without_password("postgres://plaza@db/plaza"),
            "postgres://plaza@db/plaza"
        );
        assert_eq!(
            without_password("sqlite:///srv/plaza.db"),
            "sqlite:///srv/plaza.db"
        );
        assert_eq!(without_password("postgres://h/a@b"), "postgres://h/a@b");
    }
}
