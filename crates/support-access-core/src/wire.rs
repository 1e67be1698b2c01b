//! Wire forms (SPEC section 6): reading JSON values strictly, with the SPEC's error codes, and
//! the Admin API documents (org settings, cluster descriptions, `mongoDBEmployeeAccessGrant`).
//!
//! Our own documents (commands, options) are strict: a missing or unexpected field is
//! `MALFORMED_INPUT`. Atlas documents are foreign and carry many fields we do not use, so for
//! them only the fields we read are checked.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::error::{clip, Error};
use crate::model::{Actor, ClusterKind, GrantType, Role, RoleName, Timestamp};
use crate::policy::PolicyOptions;
use crate::record::{AtlasGrant, LoadedCluster};

/// The longest id (org, project, actor, download) accepted, in bytes.
pub const MAX_ID_LEN: usize = 256;

/// The largest command [`crate::apply`] reads, in bytes (32 MiB).
pub const MAX_COMMAND_LEN: usize = 32 << 20;

/// Checks an id: 1–256 bytes, no control characters.
pub fn check_id<'a>(field: &str, id: &'a str) -> Result<&'a str, Error> {
    if id.is_empty() {
        return Err(Error::malformed(format!("`{field}` must not be empty")));
    }
    if id.len() > MAX_ID_LEN {
        return Err(Error::malformed(format!(
            "`{field}` is longer than {MAX_ID_LEN} bytes"
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(Error::malformed(format!(
            "`{field}` contains a control character"
        )));
    }
    Ok(id)
}

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
    fn lenient(v: &'a Value, ctx: &'a str) -> Result<Fields<'a>, Error> {
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

/// Policy options: `{orgId, restrictEmployeeAccess?, maxGrantDurationMs?, now?}`; `now` (the
/// creation time, RFC 3339 or epoch ms like every `now`) is a bad time as in a command:
/// `INVALID_TIMESTAMP`.
pub fn parse_options(json: &str) -> Result<PolicyOptions, Error> {
    if json.len() > MAX_COMMAND_LEN {
        return Err(Error::malformed(format!(
            "options longer than {MAX_COMMAND_LEN} bytes"
        )));
    }
    let v = parse_json(json)?;
    options_from_value(&v)
}

pub(crate) fn options_from_value(v: &Value) -> Result<PolicyOptions, Error> {
    let f = Fields::new(
        v,
        "policy options",
        &[
            "orgId",
            "restrictEmployeeAccess",
            "maxGrantDurationMs",
            "now",
        ],
    )?;
    let mut o = PolicyOptions::new(f.id("orgId")?);
    o.restrict_employee_access = f.opt_bool("restrictEmployeeAccess")?.unwrap_or(false);
    if f.has("maxGrantDurationMs") {
        o.max_grant_duration_ms = match f.opt("maxGrantDurationMs") {
            None => None,
            Some(v) => Some(v.as_i64().filter(|ms| *ms > 0).ok_or_else(|| {
                Error::malformed("`maxGrantDurationMs` must be a positive integer or null")
            })?),
        };
    }
    o.created_at = f.opt_time("now")?;
    Ok(o)
}

/// The Admin API grant body / `mongoDBEmployeeAccessGrant`: `{grantType, expirationTime}`
/// (other fields such as `links` are ignored).
pub fn parse_atlas_grant(v: &Value) -> Result<AtlasGrant, Error> {
    let f = Fields::lenient(v, "mongoDBEmployeeAccessGrant")?;
    Ok(AtlasGrant {
        grant_type: f.enum_("grantType", GrantType::parse)?,
        expiration_time: f.time("expirationTime")?,
    })
}

fn atlas_kind(f: &Fields<'_>) -> Result<ClusterKind, Error> {
    Ok(match f.opt_str("clusterType")? {
        None | Some("REPLICASET" | "SHARDED" | "GEOSHARDED") => ClusterKind::Dedicated,
        Some("FLEX") => ClusterKind::Flex,
        Some("SERVERLESS") => ClusterKind::Serverless,
        Some(other) => return Err(Error::invalid_enum("clusterType", other)),
    })
}

/// The cluster descriptions of an Atlas load, in either form the Admin API hands them out: the
/// plain list, or the document as it came (a JSON array, or the `listClusters` page
/// `{"results": [...], "totalCount": N, "links": [...]}`), which the core reads so that no
/// front end unwraps pages with rules of its own. Built with `From` from `&[Value]`,
/// `&[Value; N]`, `&Vec<Value>` or `&Value`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AtlasClusters<'a> {
    /// Cluster descriptions, already a list.
    List(&'a [Value]),
    /// A JSON document: an array of cluster descriptions or a `listClusters` page.
    Document(&'a Value),
}

impl<'a> From<&'a [Value]> for AtlasClusters<'a> {
    fn from(list: &'a [Value]) -> AtlasClusters<'a> {
        AtlasClusters::List(list)
    }
}

/// So that `&[a, b]`, which coerced to the slice the load used to take, still does.
impl<'a, const N: usize> From<&'a [Value; N]> for AtlasClusters<'a> {
    fn from(list: &'a [Value; N]) -> AtlasClusters<'a> {
        AtlasClusters::List(list)
    }
}

impl<'a> From<&'a Vec<Value>> for AtlasClusters<'a> {
    fn from(list: &'a Vec<Value>) -> AtlasClusters<'a> {
        AtlasClusters::List(list)
    }
}

impl<'a> From<&'a Value> for AtlasClusters<'a> {
    fn from(document: &'a Value) -> AtlasClusters<'a> {
        AtlasClusters::Document(document)
    }
}

/// The fields a `listClusters` page may hold. Only `results` is read: the load takes the page
/// it is given, so `totalCount` and `links` (which point at further pages) are allowed and
/// ignored. Anything else means the document is not such a page and is refused rather than
/// guessed at (the cluster descriptions inside it, by contrast, carry many Atlas fields we do
/// not read, and those are ignored).
const PAGE_FIELDS: &[&str] = &["results", "totalCount", "links"];

impl<'a> AtlasClusters<'a> {
    /// The cluster descriptions: the list itself, an array document, or a page's `results`.
    /// Anything else is `MALFORMED_INPUT` naming what is wrong.
    pub fn descriptions(self) -> Result<&'a [Value], Error> {
        match self {
            AtlasClusters::List(list) => Ok(list),
            AtlasClusters::Document(Value::Array(list)) => Ok(list),
            AtlasClusters::Document(page @ Value::Object(_)) => {
                Ok(Fields::new(page, "listClusters page", PAGE_FIELDS)?.array("results")?)
            }
            AtlasClusters::Document(other) => Err(Error::malformed(format!(
                "`clusters` must be an array of cluster descriptions or a listClusters page \
                 ({{\"results\": [...]}}), not {}",
                type_name(other)
            ))),
        }
    }
}

/// Normalizes Admin API documents: returns the org setting (if present), the clusters, and how
/// many grants were skipped because they expired at or before `as_of`.
pub(crate) fn parse_atlas(
    org_settings: &Value,
    clusters: AtlasClusters<'_>,
    as_of: Timestamp,
) -> Result<(Option<bool>, Vec<LoadedCluster>, usize), Error> {
    let clusters = clusters.descriptions()?;
    let settings = Fields::lenient(org_settings, "orgSettings")?;
    let restrict = settings.opt_bool("restrictEmployeeAccess")?;
    let mut skipped = 0;
    let mut out = Vec::with_capacity(clusters.len());
    for c in clusters {
        let f = Fields::lenient(c, "cluster description")?;
        let name = f.cluster("name")?;
        let project_id = f.id("groupId")?;
        let kind = atlas_kind(&f)?;
        let grant = f
            .opt("mongoDBEmployeeAccessGrant")
            .map(parse_atlas_grant)
            .transpose()?;
        // Atlas only accepts a sync-data grant where sync is on; trust it unless told otherwise.
        let sync = f
            .opt_bool("appServicesSyncEnabled")?
            .unwrap_or(grant.is_some_and(|g| {
                g.grant_type == GrantType::ClusterInfrastructureAndAppServicesSyncData
            }));
        let grant = match grant {
            Some(g) if g.expiration_time <= as_of => {
                skipped += 1;
                None
            }
            g => g,
        };
        out.push(LoadedCluster {
            cluster: String::from(name),
            project_id: String::from(project_id),
            kind,
            app_services_sync_enabled: sync,
            grant,
        });
    }
    Ok((restrict, out, skipped))
}
