//! Configuration: defaults, then a TOML file (`--config`, `PLAZA_CONFIG`, or `./plaza.toml` when
//! present), then `PLAZA_*` environment variables, then command-line flags, each overriding the
//! one before. Every setting has a default that works on a laptop.

use anyhow::{bail, Context};
use plaza_server::ServerConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlazaConfig {
    /// Where the embedded mode keeps its SQLite database and blobs (default `./plaza-data`).
    pub data_dir: PathBuf,
    /// Store URL: `sqlite://…` or `postgres://…` (default: `plaza.db` in the data directory).
    pub database_url: Option<String>,
    /// Where registry blobs live: a directory, or `s3://bucket[/prefix]` for an S3-compatible
    /// object store configured by the usual `AWS_*` variables (default: `registry` in the data
    /// directory).
    pub blob_storage: Option<String>,
    /// HTTP server settings.
    pub server: ServerConfig,
    /// Usage metering settings.
    pub metering: MeteringConfig,
}

/// The `[metering]` table: the scale-out mode's usage bus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MeteringConfig {
    /// `nats://HOST:PORT` of a NATS server with JetStream: servers append accepted usage events
    /// to its stream and consumers write them to the store (off when absent: servers write to
    /// the store themselves).
    pub bus: Option<String>,
    /// The JetStream stream (default `PLAZA_USAGE`; subjects `<stream>.<org id>`).
    pub stream: String,
    /// The durable consumer every consumer shares (default `plaza-usage-consumer`).
    pub durable: String,
    /// Whether `plaza serve` runs a consumer in the same process when `bus` is set (default
    /// true; turn off when dedicated `plaza consume-usage` processes do the work).
    pub embedded_consumer: bool,
    /// Seconds a consumer may hold a batch unacked before JetStream redelivers it to another
    /// (default 30; applies when the durable consumer is created).
    pub ack_wait_secs: u64,
}

impl Default for MeteringConfig {
    fn default() -> Self {
        Self {
            bus: None,
            stream: plaza_bus::DEFAULT_STREAM.into(),
            durable: plaza_bus::DEFAULT_DURABLE.into(),
            embedded_consumer: true,
            ack_wait_secs: 30,
        }
    }
}

impl MeteringConfig {
    /// The bus settings, when the scale-out mode is on.
    pub fn bus_config(&self) -> Option<plaza_bus::BusConfig> {
        let url = self.bus.as_ref()?;
        let mut config = plaza_bus::BusConfig::new(url.clone());
        config.stream = self.stream.clone();
        config.durable = self.durable.clone();
        config.ack_wait = std::time::Duration::from_secs(self.ack_wait_secs);
        Some(config)
    }

    /// Checks the values; the text names the setting and the fix.
    pub fn check(&self) -> Result<(), String> {
        if let Some(bus) = &self.bus {
            if !bus.starts_with("nats://") && !bus.starts_with("tls://") {
                return Err(format!(
                    "metering.bus is `{bus}`; it must be a NATS URL like nats://127.0.0.1:4222"
                ));
            }
        }
        if self.ack_wait_secs == 0 {
            return Err("metering.ack_wait_secs must be at least 1 (seconds)".into());
        }
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !name_ok(&self.stream) {
            return Err(format!(
                "metering.stream is `{}`; use letters, digits, `-` and `_` only",
                self.stream
            ));
        }
        if !name_ok(&self.durable) {
            return Err(format!(
                "metering.durable is `{}`; use letters, digits, `-` and `_` only",
                self.durable
            ));
        }
        Ok(())
    }
}

impl Default for PlazaConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("plaza-data"),
            database_url: None,
            blob_storage: None,
            server: ServerConfig::default(),
            metering: MeteringConfig::default(),
        }
    }
}

/// Where the settings come from, before flags.
pub struct Sources<'a> {
    /// `--config FILE`, if given.
    pub file: Option<&'a Path>,
    /// The environment, as (name, value) pairs.
    pub env: Vec<(String, String)>,
}

impl Sources<'_> {
    /// The process environment.
    pub fn from_process(file: Option<&Path>) -> Sources<'_> {
        Sources {
            file,
            env: std::env::vars()
                .filter(|(k, _)| k.starts_with("PLAZA_"))
                .collect(),
        }
    }
}

impl PlazaConfig {
    /// Loads defaults, the file, then the environment.
    pub fn load(sources: &Sources<'_>) -> anyhow::Result<Self> {
        let env = |name: &str| {
            sources
                .env
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let file = sources
            .file
            .map(Path::to_path_buf)
            .or_else(|| env("PLAZA_CONFIG").map(PathBuf::from))
            .or_else(|| Some(PathBuf::from("plaza.toml")).filter(|p| p.exists()));
        let mut config = match &file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read the configuration file {}", path.display())
                })?;
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            }
            None => PlazaConfig::default(),
        };
        if let Some(v) = env("PLAZA_DATA_DIR") {
            config.data_dir = v.into();
        }
        if let Some(v) = env("PLAZA_DATABASE_URL") {
            config.database_url = Some(v);
        }
        if let Some(v) = env("PLAZA_BLOB_STORAGE") {
            config.blob_storage = Some(v);
        }
        if let Some(v) = env("PLAZA_LISTEN") {
            config.server.listen = v.parse().with_context(|| {
                format!("PLAZA_LISTEN=`{v}` is not an address like 127.0.0.1:8080")
            })?;
        }
        if let Some(v) = env("PLAZA_BODY_LIMIT_BYTES") {
            config.server.body_limit_bytes = parse_number("PLAZA_BODY_LIMIT_BYTES", &v)?;
        }
        if let Some(v) = env("PLAZA_REQUEST_TIMEOUT_SECS") {
            config.server.request_timeout_secs = parse_number("PLAZA_REQUEST_TIMEOUT_SECS", &v)?;
        }
        if let Some(v) = env("PLAZA_METERING_BUS") {
            config.metering.bus = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = env("PLAZA_METERING_STREAM") {
            config.metering.stream = v;
        }
        if let Some(v) = env("PLAZA_METERING_DURABLE") {
            config.metering.durable = v;
        }
        if let Some(v) = env("PLAZA_METERING_ACK_WAIT_SECS") {
            config.metering.ack_wait_secs = parse_number("PLAZA_METERING_ACK_WAIT_SECS", &v)?;
        }
        if let Some(v) = env("PLAZA_METERING_EMBEDDED_CONSUMER") {
            config.metering.embedded_consumer = match v.trim() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => bail!("PLAZA_METERING_EMBEDDED_CONSUMER=`{v}` must be true or false"),
            };
        }
        config.server.check().map_err(anyhow::Error::msg)?;
        config.metering.check().map_err(anyhow::Error::msg)?;
        Ok(config)
    }

    /// The store URL: the configured one, or SQLite in the data directory.
    pub fn store_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| plaza_store::sqlite_url_for_data_dir(&self.data_dir))
    }
}

impl PlazaConfig {
    /// Opens the registry's blob store where `blob_storage` says (an S3 bucket is checked to
    /// answer first).
    pub async fn open_blobs(
        &self,
    ) -> anyhow::Result<std::sync::Arc<dyn plaza_registry::BlobStore>> {
        let location = self.blob_storage.clone().unwrap_or_default();
        plaza_registry::open_blob_store(&location, &self.data_dir.join("registry"))
            .await
            .with_context(|| format!("cannot open the blob storage `{location}`"))
    }
}

fn parse_number<T: std::str::FromStr>(name: &str, v: &str) -> anyhow::Result<T> {
    match v.trim().parse() {
        Ok(n) => Ok(n),
        Err(_) => bail!("{name}=`{v}` is not a whole number"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources<'a>(file: Option<&'a Path>, env: &[(&str, &str)]) -> Sources<'a> {
        Sources {
            file,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn defaults_work_on_a_laptop() {
        let c = PlazaConfig::load(&sources(None, &[])).unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
        assert!(c.store_url().starts_with("sqlite:"));
        assert!(c.store_url().contains("plaza-data"));
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plaza.toml");
        std::fs::write(
            &path,
            "data_dir = \"/srv/plaza\"\n[server]\nlisten = \"0.0.0.0:9000\"\n",
        )
        .unwrap();
        let c = PlazaConfig::load(&sources(Some(&path), &[("PLAZA_LISTEN", "127.0.0.1:7000")]))
            .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/srv/plaza"));
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:7000");
    }

    #[test]
    fn unknown_settings_are_errors_with_a_location() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plaza.toml");
        std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n").unwrap();
        let err = PlazaConfig::load(&sources(Some(&path), &[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("plaza.toml"), "{err}");
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("lisen"), "{err}");
    }

    #[test]
    fn the_usage_bus_comes_from_the_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plaza.toml");
        std::fs::write(
            &path,
            "[metering]\nbus = \"nats://10.0.0.1:4222\"\nembedded_consumer = false\n",
        )
        .unwrap();
        let c = PlazaConfig::load(&sources(Some(&path), &[])).unwrap();
        assert_eq!(c.metering.bus.as_deref(), Some("nats://10.0.0.1:4222"));
        assert!(!c.metering.embedded_consumer);
        let bus = c.metering.bus_config().unwrap();
        assert_eq!(bus.stream, "PLAZA_USAGE");
        let c = PlazaConfig::load(&sources(
            Some(&path),
            &[
                ("PLAZA_METERING_BUS", "nats://127.0.0.1:4222"),
                ("PLAZA_METERING_STREAM", "USAGE_2"),
            ],
        ))
        .unwrap();
        assert_eq!(c.metering.bus.as_deref(), Some("nats://127.0.0.1:4222"));
        assert_eq!(c.metering.stream, "USAGE_2");
        assert!(PlazaConfig::load(&sources(None, &[]))
            .unwrap()
            .metering
            .bus_config()
            .is_none());
        let err =
            PlazaConfig::load(&sources(None, &[("PLAZA_METERING_BUS", "redis://x")])).unwrap_err();
        assert!(err.to_string().contains("metering.bus"), "{err}");
    }

    #[test]
    fn bad_environment_values_name_the_variable() {
        let err = PlazaConfig::load(&sources(None, &[("PLAZA_REQUEST_TIMEOUT_SECS", "soon")]))
            .unwrap_err();
        assert!(err.to_string().contains("PLAZA_REQUEST_TIMEOUT_SECS"));
        let err =
            PlazaConfig::load(&sources(None, &[("PLAZA_REQUEST_TIMEOUT_SECS", "0")])).unwrap_err();
        assert!(err.to_string().contains("request_timeout_secs"), "{err}");
    }
}
