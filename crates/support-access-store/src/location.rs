//! Where a record lives: a file path, or a PostgreSQL URL.

use std::fmt;
use std::path::PathBuf;

use crate::error::StoreError;

/// A store location as given on a command line or in `SUPPORT_ACCESS_STORE`.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A local JSON Lines file (one organization per file).
    File(PathBuf),
    /// A PostgreSQL database: `postgres://` or `postgresql://` URL (libpq syntax), many
    /// organizations, one chain each.
    Postgres(String),
}

impl Location {
    /// Reads a location: a `postgres://` / `postgresql://` URL, a `file:` path, or a plain path.
    /// A URL is checked here so that a typo is one readable line before anything connects.
    pub fn parse(text: &str) -> Result<Location, StoreError> {
        let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            text.parse::<postgres::Config>()
                .map_err(|e| StoreError::BadLocation {
                    location: redact(text),
                    detail: e.to_string(),
                })?;
            return Ok(Location::Postgres(String::from(text)));
        }
        if let Some(scheme) = text.split_once("://").map(|(s, _)| s) {
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+')
            {
                return Err(StoreError::BadLocation {
                    location: redact(text),
                    detail: format!(
                        "unknown scheme `{scheme}://` (a store is a file path or a postgres:// URL)"
                    ),
                });
            }
        }
        let path = text.strip_prefix("file:").unwrap_or(text);
        if path.is_empty() {
            return Err(StoreError::BadLocation {
                location: String::new(),
                detail: String::from("empty path"),
            });
        }
        Ok(Location::File(PathBuf::from(path)))
    }

    /// Whether this is a PostgreSQL store.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }
}

/// Shows a location with any password replaced by `***`, for messages and logs.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

/// `scheme://user:secret@host/db` → `scheme://user:***@host/db`; a `password=` query
/// parameter is hidden too.
pub(crate) fn redact(url: &str) -> String {
    let mut out = String::from(url);
    if let Some(start) = out.find("://").map(|i| i + 3) {
        let end = out[start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..end].rfind('@').map(|i| start + i) {
            if let Some(colon) = out[start..at].find(':').map(|i| start + i) {
                out.replace_range(colon + 1..at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let hidden: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => String::from(kv),
            })
            .collect();
        out = format!("{head}{}", hidden.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert!(Location::parse("postgres://u@127.0.0.1:5432/db")
            .unwrap()
            .is_postgres());
        assert!(Location::parse("postgresql://127.0.0.1/db?sslmode=disable")
            .unwrap()
            .is_postgres());
        assert_eq!(
            Location::parse("file:./a.jsonl").unwrap(),
            Location::File("./a.jsonl".into())
        );
        assert_eq!(
            Location::parse("rec.jsonl").unwrap(),
            Location::File("rec.jsonl".into())
        );
        let e = Location::parse("mysql://x").unwrap_err();
        assert_eq!(e.code(), "USAGE");
        assert!(e.to_string().contains("unknown scheme `mysql://`"), "{e}");
        let e = Location::parse("postgres://u:pw@h:notaport/db").unwrap_err();
        assert!(!e.to_string().contains("pw@"), "{e}");
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://alice:s3cret@db.example:5432/sa"),
            "postgres://alice:***@db.example:5432/sa"
        );
        assert_eq!(redact("postgres://alice@db/sa"), "postgres://alice@db/sa");
        assert_eq!(
            redact("postgresql://h/db?user=a&password=x&sslmode=require"),
            "postgresql://h/db?user=a&password=***&sslmode=require"
        );
    }
}
