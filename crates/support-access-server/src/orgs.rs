//! The organizations this replica serves: per organization, a writer (a [`Store`] behind a
//! mutex; appends are compare-and-set, so any replica may take any request) and a
//! [`Follower`] whose cache answers reads on the in-memory hot path. Everything here blocks
//! (the store's client is synchronous): handlers call it through `spawn_blocking`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use support_access_store::{Follower, Location, Store, StoreError};

/// One organization on this replica.
#[derive(Debug)]
pub struct Org {
    /// The writer.
    pub writer: Mutex<Store>,
    /// The cache that answers reads.
    pub follower: Follower,
}

impl Org {
    /// Waits (bounded) until the read cache holds `seq`, so a client reads its own write.
    pub fn settle(&self, seq: u64) {
        self.follower.wait_for(seq, Duration::from_secs(2));
    }
}

/// Every organization opened so far, and which organization each project (Atlas group id)
/// belongs to.
#[derive(Debug)]
pub struct Orgs {
    location: Location,
    open: RwLock<HashMap<String, Arc<Org>>>,
}

impl Orgs {
    /// Nothing opened yet.
    pub fn new(location: Location) -> Orgs {
        Orgs {
            location,
            open: RwLock::new(HashMap::new()),
        }
    }

    /// The organization if it is open already (never blocks on the store).
    pub fn cached(&self, org: &str) -> Option<Arc<Org>> {
        self.open
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(org)
            .map(Arc::clone)
    }

    /// The organization, opened (replayed, followed) on first use.
    pub fn get(&self, org: &str) -> Result<Arc<Org>, StoreError> {
        if let Some(o) = self.open.read().unwrap_or_else(|e| e.into_inner()).get(org) {
            return Ok(Arc::clone(o));
        }
        let writer = Store::open(&self.location, Some(org))?;
        let follower = Store::open(&self.location, Some(org))?.follow();
        let org_state = Arc::new(Org {
            writer: Mutex::new(writer),
            follower,
        });
        let mut open = self.open.write().unwrap_or_else(|e| e.into_inner());
        Ok(Arc::clone(
            open.entry(String::from(org)).or_insert(org_state),
        ))
    }

    /// The organizations opened so far, by name.
    pub fn opened(&self) -> Vec<(String, Arc<Org>)> {
        let open = self.open.read().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<_> = open
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The organization holding project `group` (a group id names one project across the
    /// whole store). Organizations not opened yet are opened to look.
    pub fn of_group(&self, group: &str) -> Result<Option<(String, Arc<Org>)>, StoreError> {
        let find = |open: &HashMap<String, Arc<Org>>| {
            open.iter()
                .find(|(_, o)| o.follower.read(|p| p.projects().any(|id| id == group)))
                .map(|(name, o)| (name.clone(), Arc::clone(o)))
        };
        if let Some(found) = find(&self.open.read().unwrap_or_else(|e| e.into_inner())) {
            return Ok(Some(found));
        }
        for org in Store::orgs(&self.location)? {
            self.get(&org)?;
        }
        Ok(find(&self.open.read().unwrap_or_else(|e| e.into_inner())))
    }
}
