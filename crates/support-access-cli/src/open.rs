//! Where the record lives and opening it: what every subcommand that reads or writes the record
//! starts with.

use support_access_store::{Location, Store};

use crate::args::Global;
use crate::fail::Fail;

/// Where the record lives: `--store` or `--record` (not both), else `SUPPORT_ACCESS_STORE`,
/// else `SUPPORT_ACCESS_RECORD`, else `./support-access.jsonl`. A flag beats the environment,
/// so `--record old.jsonl store migrate --to "$SUPPORT_ACCESS_STORE"` reads the file.
pub fn location(g: &Global) -> Result<Location, Fail> {
    let env = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    match (&g.store, &g.record) {
        (Some(_), Some(_)) => Err(Fail::usage("give --store or --record, not both")),
        (Some(s), None) => Location::parse(s).map_err(Fail::store),
        (None, Some(r)) => Ok(Location::File(r.clone())),
        (None, None) => match (env("SUPPORT_ACCESS_STORE"), env("SUPPORT_ACCESS_RECORD")) {
            (Some(s), _) => Location::parse(&s.to_string_lossy()).map_err(Fail::store),
            (None, Some(r)) => Ok(Location::File(r.into())),
            (None, None) => Ok(Location::File("support-access.jsonl".into())),
        },
    }
}

/// Opens and verifies the record (`--org` chooses among a database's organizations).
pub fn open(g: &Global) -> Result<Store, Fail> {
    Store::open(&location(g)?, g.org.as_deref()).map_err(Fail::store)
}
