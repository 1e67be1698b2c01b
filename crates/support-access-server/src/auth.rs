//! Who is asking: bearer tokens, stored only as SHA-256 hex, mapped to an actor id and that
//! actor's roles per organization. The core decides everything else (`FORBIDDEN`).
//!
//! ```json
//! {"tokens": [{"sha256": "…64 hex…", "id": "alice", "orgs": {"acme": [{"role": "ORG_OWNER"}]}}]}
//! ```

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};
use support_access_core::Actor;

/// One token's holder.
#[derive(Debug, Clone)]
pub struct Holder {
    /// The actor id recorded in events.
    pub id: String,
    /// Roles (SPEC §7 role objects) per organization.
    pub orgs: HashMap<String, Value>,
}

impl Holder {
    /// The actor for `org`, if the token has roles there.
    pub fn actor(&self, org: &str) -> Option<Actor> {
        let roles = self.orgs.get(org)?;
        let v = serde_json::json!({ "id": self.id, "roles": roles });
        support_access_core::wire::parse_actor(&v).ok()
    }
}

/// The tokens file, read and checked whole (a bad file is refused, never half-loaded).
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    by_hash: HashMap<String, Holder>,
}

/// Lowercase hex SHA-256 of a token.
pub fn sha256_hex(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Tokens {
    /// Reads a tokens file.
    pub fn load(path: &Path) -> Result<Tokens, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read tokens file {}: {e}", path.display()))?;
        Tokens::parse(&text).map_err(|e| format!("tokens file {}: {e}", path.display()))
    }

    /// Parses a tokens document; every entry's roles must be valid SPEC role objects.
    pub fn parse(text: &str) -> Result<Tokens, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        let list = doc
            .get("tokens")
            .and_then(Value::as_array)
            .ok_or("expected {\"tokens\": [...]}")?;
        let mut by_hash = HashMap::new();
        for (i, t) in list.iter().enumerate() {
            let hash = t
                .get("sha256")
                .and_then(Value::as_str)
                .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or(format!("tokens[{i}]: `sha256` must be 64 hex digits"))?
                .to_ascii_lowercase();
            let id = t
                .get("id")
                .and_then(Value::as_str)
                .ok_or(format!("tokens[{i}]: `id` must be a string"))?;
            let orgs = t
                .get("orgs")
                .and_then(Value::as_object)
                .ok_or(format!("tokens[{i}]: `orgs` must be an object"))?;
            let holder = Holder {
                id: String::from(id),
                orgs: orgs.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            };
            for org in holder.orgs.keys() {
                if holder.actor(org).is_none() {
                    return Err(format!("tokens[{i}]: the roles for `{org}` are not valid"));
                }
            }
            by_hash.insert(hash, holder);
        }
        Ok(Tokens { by_hash })
    }

    /// The holder of a presented token.
    pub fn holder(&self, token: &str) -> Option<&Holder> {
        self.by_hash.get(&sha256_hex(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_matched_by_their_hash_only() {
        let doc = format!(
            r#"{{"tokens": [{{"sha256": "{}", "id": "alice", "orgs": {{"acme": [{{"role": "ORG_OWNER"}}]}}}}]}}"#,
            sha256_hex("s3cret")
        );
        let t = Tokens::parse(&doc).unwrap();
        let h = t.holder("s3cret").unwrap();
        assert_eq!(h.actor("acme").unwrap().id, "alice");
        assert!(h.actor("other").is_none());
        assert!(t.holder("S3CRET").is_none());
        assert!(!doc.contains("s3cret"));
        assert!(
            Tokens::parse(r#"{"tokens": [{"sha256": "xyz", "id": "a", "orgs": {}}]}"#).is_err()
        );
        let bad_role = format!(
            r#"{{"tokens": [{{"sha256": "{}", "id": "a", "orgs": {{"acme": [{{"role": "GOD"}}]}}}}]}}"#,
            sha256_hex("x")
        );
        assert!(Tokens::parse(&bad_role).unwrap_err().contains("acme"));
    }
}
