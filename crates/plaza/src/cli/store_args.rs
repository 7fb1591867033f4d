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
            Some(url) => plaza_store::sqlite_file(url),
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
    plaza_store::mask_password(&config.store_url())
}
