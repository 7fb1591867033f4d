//! Parsing a store URL into the backend it names ([`Target`]), and describing it for error
//! messages without leaking passwords.

use crate::error::StoreSetupError;
use sqlx::postgres::PgConnectOptions;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A parsed store URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// An SQLite database.
    Sqlite {
        /// The file, as given (relative paths stay relative to the working directory);
        /// `None` for a private in-memory database (`sqlite::memory:`).
        path: Option<PathBuf>,
        /// The URL handed to sqlx (always creates the file if missing).
        url: String,
    },
    /// A PostgreSQL server.
    Postgres {
        /// The URL handed to sqlx.
        url: String,
        /// `host:port/database as user`, for messages.
        display: String,
    },
}

impl Target {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `postgres://...` and `postgresql://...`.
    pub(crate) fn parse(url: &str) -> Result<Self, StoreSetupError> {
        let bad = |reason: &str| StoreSetupError::BadUrl {
            url: mask_password(url),
            reason: reason.to_owned(),
        };
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let (encoded_path, params) = match rest.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (rest, None),
            };
            if encoded_path == ":memory:" && params.is_none() {
                return Ok(Target::Sqlite {
                    path: None,
                    url: "sqlite::memory:".to_owned(),
                });
            }
            if encoded_path.is_empty() {
                return Err(bad("an SQLite store needs a file path"));
            }
            let path = PathBuf::from(percent_decode(encoded_path).ok_or_else(|| {
                bad("the path has a malformed %-escape (write `%25` for a literal `%`)")
            })?);
            let mut query: Vec<&str> = params
                .unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
                .collect();
            if !query.iter().any(|p| p.starts_with("mode=")) {
                query.push("mode=rwc");
            }
            let url = format!("sqlite://{encoded_path}?{}", query.join("&"));
            return Ok(Target::Sqlite {
                path: Some(path),
                url,
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(|e| bad(&e.to_string()))?;
            let display = format!(
                "PostgreSQL at {}:{}/{} as {}",
                opts.get_host(),
                opts.get_port(),
                opts.get_database().unwrap_or("(default database)"),
                opts.get_username(),
            );
            return Ok(Target::Postgres {
                url: url.to_owned(),
                display,
            });
        }
        Err(bad("the scheme is not one Plaza supports"))
    }

    /// What is being opened, for messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Target::Sqlite {
                path: Some(path), ..
            } => {
                format!("SQLite database at {}", path.display())
            }
            Target::Sqlite { path: None, .. } => "in-memory SQLite database".to_owned(),
            Target::Postgres { display, .. } => display.clone(),
        }
    }

    /// The URL for sqlx.
    pub(crate) fn url(&self) -> &str {
        match self {
            Target::Sqlite { url, .. } | Target::Postgres { url, .. } => url,
        }
    }
}

/// The file of an SQLite store URL (`sqlite://PATH` or `sqlite:PATH`, %-escapes decoded,
/// query ignored); `None` for an in-memory database, a server database or a URL that does not
/// parse.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    match Target::parse(url).ok()? {
        Target::Sqlite { path, .. } => path,
        Target::Postgres { .. } => None,
    }
}

/// The SQLite URL of the store in a data directory: `sqlite://<dir>/plaza.db`.
pub fn sqlite_url_for_data_dir(dir: &Path) -> String {
    format!("sqlite://{}", escape_path(&dir.join("plaza.db")))
}

/// A file path as the path part of a `sqlite://` URL: `%`, `?`, `#` and spaces escaped.
pub(crate) fn escape_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    out
}

/// Decodes `%XX` escapes; `None` when one is malformed or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URL with any `user:password@` password replaced by `***`: a store URL as it may be
/// printed or logged.
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!("{scheme}://{}:***{}", &authority[..colon], &rest[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_the_file_and_create_it() {
        for (url, path, sqlx_url) in [
            (
                "sqlite://data/plaza.db",
                "data/plaza.db",
                "sqlite://data/plaza.db?mode=rwc",
            ),
            ("sqlite:plaza.db", "plaza.db", "sqlite://plaza.db?mode=rwc"),
            (
                "sqlite:///var/p.db",
                "/var/p.db",
                "sqlite:///var/p.db?mode=rwc",
            ),
            (
                "sqlite:///a%3Fb.db",
                "/a?b.db",
                "sqlite:///a%3Fb.db?mode=rwc",
            ),
            ("sqlite://x.db?mode=ro", "x.db", "sqlite://x.db?mode=ro"),
        ] {
            assert_eq!(
                Target::parse(url).unwrap(),
                Target::Sqlite {
                    path: Some(path.into()),
                    url: sqlx_url.into()
                },
                "{url}"
            );
        }
    }

    #[test]
    fn sqlite_memory_is_a_private_in_memory_database() {
        let t = Target::parse("sqlite::memory:").unwrap();
        assert_eq!(
            t,
            Target::Sqlite {
                path: None,
                url: "sqlite::memory:".into()
            }
        );
        assert_eq!(t.describe(), "in-memory SQLite database");
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite:///srv/my%20data/plaza.db?mode=rwc"),
            Some(PathBuf::from("/srv/my data/plaza.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:plaza.db"),
            Some(PathBuf::from("plaza.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }

    #[test]
    fn masked_urls_hide_only_the_password() {
        assert_eq!(
            mask_password("postgres://plaza:s3cret@db.example:5432/plaza?sslmode=require"),
            "postgres://plaza:***@db.example:5432/plaza?sslmode=require"
        );
        assert_eq!(
            mask_password("postgres://plaza@db/plaza"),
            "postgres://plaza@db/plaza"
        );
        assert_eq!(
            mask_password("sqlite:///srv/plaza.db"),
            "sqlite:///srv/plaza.db"
        );
        assert_eq!(mask_password("postgres://h/a@b"), "postgres://h/a@b");
    }

    #[test]
    fn postgres_urls_are_described_without_password() {
        let t = Target::parse("postgresql://plaza:secret@db.internal:6543/plaza").unwrap();
        assert_eq!(
            t.describe(),
            "PostgreSQL at db.internal:6543/plaza as plaza"
        );
        assert!(Target::parse("postgres://u@h/d").is_ok());
    }

    #[test]
    fn unsupported_urls_name_the_supported_schemes_and_mask_passwords() {
        for url in [
            "mysql://u:hunter2@h/d",
            "plaza.db",
            "sqlite://",
            "sqlite:?mode=rwc",
        ] {
            let msg = Target::parse(url).unwrap_err().to_string();
            assert!(msg.contains("sqlite://PATH"), "{msg}");
            assert!(msg.contains("postgres://"), "{msg}");
            assert!(!msg.contains("hunter2"), "{msg}");
        }
    }

    #[test]
    fn data_dir_urls_point_at_plaza_db_and_round_trip() {
        let url = sqlite_url_for_data_dir(Path::new("/srv/pl?za"));
        assert_eq!(url, "sqlite:///srv/pl%3Fza/plaza.db");
        match Target::parse(&url).unwrap() {
            Target::Sqlite { path, .. } => {
                assert_eq!(path.as_deref(), Some(Path::new("/srv/pl?za/plaza.db")))
            }
            other => panic!("{other:?}"),
        }
    }
}
