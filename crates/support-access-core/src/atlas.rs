//! The Atlas Admin API's documents as the core reads them: the grant body and
//! `mongoDBEmployeeAccessGrant` ([`AtlasGrant`]), cluster descriptions and `listClusters` pages
//! ([`AtlasClusters`]), normalized into [`LoadedCluster`]s for an `ATLAS_LOADED` event. Atlas
//! documents are foreign and carry many fields the core does not use, so only the fields read
//! are checked.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::model::{ClusterKind, GrantType, Timestamp};
use crate::wire::{type_name, Fields};

/// A grant as the Admin API writes it (`mongoDBEmployeeAccessGrant`, and the grant body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AtlasGrant {
    /// `grantType`.
    pub grant_type: GrantType,
    /// `expirationTime`.
    pub expiration_time: Timestamp,
}

/// One cluster of an Atlas import, normalized.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadedCluster {
    /// Cluster name.
    pub cluster: String,
    /// Project (Atlas `groupId`).
    pub project_id: String,
    /// Kind.
    pub kind: ClusterKind,
    /// App Services sync.
    pub app_services_sync_enabled: bool,
    /// The grant it held, if still in force at load time.
    pub grant: Option<AtlasGrant>,
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
