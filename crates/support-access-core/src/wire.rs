//! Wire forms (SPEC section 6): reading JSON values strictly, with the SPEC's error codes: times,
//! actors, and the typed field getters every reader of a JSON object uses. The Admin API's
//! documents are read in `atlas`, policy options in `policy`.
//!
//! Our own documents (commands, options) are strict: a missing or unexpected field is
//! `MALFORMED_INPUT`. Atlas documents are foreign and carry many fields we do not use, so for
//! them only the fields we read are checked.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::error::{clip, Error};
use crate::model::{Actor, Role, RoleName, Timestamp};

pub use crate::error::MAX_COMMAND_LEN;
pub use crate::model::{check_id, MAX_ID_LEN};

/// Parses JSON text, naming the position of a syntax error.
pub(crate) fn parse_json(text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| json_error(&e))
}

/// A serde_json error as `MALFORMED_INPUT`, naming its position.
pub(crate) fn json_error(e: &serde_json::Error) -> Error {
    match e.classify() {
        serde_json::error::Category::Data => Error::malformed(format!("{e}")),
        _ => Error::malformed(format!(
            "invalid JSON at line {} column {}: {}",
            e.line(),
            e.column(),
            json_error_kind(e)
        )),
    }
}

fn json_error_kind(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "unexpected end of input",
        Category::Syntax => "syntax error",
        Category::Data => "invalid data",
        Category::Io => "read error",
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A strict view of one JSON object: only `allowed` keys, typed getters with SPEC errors.
pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
    ctx: &'a str,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(v: &'a Value, ctx: &'a str, allowed: &[&str]) -> Result<Fields<'a>, Error> {
        let map = v.as_object().ok_or_else(|| {
            Error::malformed(format!("{ctx} must be a JSON object, not {}", type_name(v)))
        })?;
        if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Error::malformed(format!(
                "unexpected field `{}` in {ctx}",
                clip(k)
            )));
        }
        Ok(Fields { map, ctx })
    }

    /// A view that ignores fields it does not read (for Atlas documents).
    pub(crate) fn lenient(v: &'a Value, ctx: &'a str) -> Result<Fields<'a>, Error> {
        let map = v.as_object().ok_or_else(|| {
            Error::malformed(format!("{ctx} must be a JSON object, not {}", type_name(v)))
        })?;
        Ok(Fields { map, ctx })
    }

    /// A present, non-null value.
    pub(crate) fn opt(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    pub(crate) fn req(&self, name: &str) -> Result<&'a Value, Error> {
        self.opt(name)
            .ok_or_else(|| Error::malformed(format!("missing field `{name}` in {}", self.ctx)))
    }

    fn wrong(&self, name: &str, want: &str, v: &Value) -> Error {
        Error::malformed(format!(
            "field `{name}` in {} must be {want}, not {}",
            self.ctx,
            type_name(v)
        ))
    }

    pub(crate) fn str(&self, name: &str) -> Result<&'a str, Error> {
        let v = self.req(name)?;
        v.as_str().ok_or_else(|| self.wrong(name, "a string", v))
    }

    pub(crate) fn opt_str(&self, name: &str) -> Result<Option<&'a str>, Error> {
        self.opt(name)
            .map(|v| v.as_str().ok_or_else(|| self.wrong(name, "a string", v)))
            .transpose()
    }

    pub(crate) fn id(&self, name: &str) -> Result<&'a str, Error> {
        check_id(name, self.str(name)?)
    }

    pub(crate) fn bool(&self, name: &str) -> Result<bool, Error> {
        let v = self.req(name)?;
        v.as_bool()
            .ok_or_else(|| self.wrong(name, "true or false", v))
    }

    pub(crate) fn opt_bool(&self, name: &str) -> Result<Option<bool>, Error> {
        self.opt(name)
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| self.wrong(name, "true or false", v))
            })
            .transpose()
    }

    pub(crate) fn array(&self, name: &str) -> Result<&'a Vec<Value>, Error> {
        let v = self.req(name)?;
        v.as_array().ok_or_else(|| self.wrong(name, "an array", v))
    }

    pub(crate) fn time(&self, name: &str) -> Result<Timestamp, Error> {
        parse_time(self.req(name)?)
    }

    pub(crate) fn opt_time(&self, name: &str) -> Result<Option<Timestamp>, Error> {
        self.opt(name).map(parse_time).transpose()
    }

    pub(crate) fn enum_<T>(
        &self,
        name: &str,
        parse: fn(&str) -> Result<T, Error>,
    ) -> Result<T, Error> {
        parse(self.str(name)?)
    }

    pub(crate) fn cluster(&self, name: &str) -> Result<&'a str, Error> {
        crate::model::check_cluster_name(self.str(name)?)
    }

    pub(crate) fn actor(&self, name: &str) -> Result<Actor, Error> {
        parse_actor(self.req(name)?)
    }
}

/// A time: an RFC 3339 string or integer epoch milliseconds.
pub fn parse_time(v: &Value) -> Result<Timestamp, Error> {
    match v {
        Value::String(s) => Timestamp::parse_rfc3339(s),
        Value::Number(n) => match n.as_i64() {
            Some(ms) => Timestamp::from_millis(ms),
            None => Err(Error::InvalidTimestamp {
                value: clip(&format!("{n}")),
                detail: "epoch milliseconds must be a whole number between 0 and 253402300799999",
            }),
        },
        other => Err(Error::InvalidTimestamp {
            value: String::from(type_name(other)),
            detail: "expected an RFC 3339 string or epoch milliseconds",
        }),
    }
}

/// An actor from its JSON text, for a front end that takes actors as text (the C ABI): the
/// command's length limit, JSON errors and field checks, so it refuses what a command would.
pub fn parse_actor_json(text: &str) -> Result<Actor, Error> {
    if text.len() > MAX_COMMAND_LEN {
        return Err(Error::malformed(format!(
            "actor longer than {MAX_COMMAND_LEN} bytes"
        )));
    }
    parse_actor(&parse_json(text)?)
}

/// An actor: `{"id": …, "roles": [{"role": …, "projectId"?: …}]}`.
pub fn parse_actor(v: &Value) -> Result<Actor, Error> {
    let f = Fields::new(v, "actor", &["id", "roles"])?;
    let id = check_id("actor.id", f.str("id")?)?;
    let roles = f
        .array("roles")?
        .iter()
        .map(|r| {
            let rf = Fields::new(r, "role", &["role", "projectId"])?;
            let name = rf.enum_("role", RoleName::parse)?;
            Role::new(name, rf.opt_str("projectId")?)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Actor::new(id, roles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use alloc::string::ToString;

    /// The text form refuses what a command's actor field refuses, with the same codes.
    #[test]
    fn actor_from_text() {
        let a = parse_actor_json(r#"{"id":"alice","roles":[{"role":"ORG_OWNER"}]}"#).unwrap();
        assert_eq!(a.id, "alice");
        let cases = [
            (r#"{"id":"alice""#, ErrorCode::MalformedInput),
            (
                r#"{"id":"alice","roles":[],"x":1}"#,
                ErrorCode::MalformedInput,
            ),
            (
                r#"{"id":"alice","roles":[{"role":"ADMIN"}]}"#,
                ErrorCode::InvalidEnumValue,
            ),
            ("[]", ErrorCode::MalformedInput),
        ];
        for (text, code) in cases {
            assert_eq!(parse_actor_json(text).unwrap_err().code(), code, "{text}");
        }
        let err = parse_actor_json("{").unwrap_err().to_string();
        assert!(err.contains("invalid JSON at line 1 column 1"), "{err}");
        let long = alloc::string::String::from(" ").repeat(MAX_COMMAND_LEN + 1);
        assert!(parse_actor_json(&long)
            .unwrap_err()
            .to_string()
            .contains("actor longer than"));
    }
}
