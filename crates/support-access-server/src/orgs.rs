//! The organizations this replica serves: per organization, a writer (a [`Store`] behind a
//! mutex; appends are compare-and-set, so any replica may take any request) and a
//! [`Follower`] whose cache answers reads on the in-memory hot path. Everything here blocks
//! (the store's client is synchronous): handlers call it through `spawn_blocking`.
//!
//! With a signing key, each organization also has a [`Signer`]: a thread that signs a checkpoint
//! (SPEC §9) of the head this replica's cache has reached, after appends and at most once per
//! [`SIGN_EVERY`], so clients can pin the record against truncation and rewrites.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use support_access_core::checkpoint::{Checkpoint, SigningKey};
use support_access_core::Policy;
use support_access_store::{Follower, Location, Now, Store, StoreError};

/// The shortest time between two checkpoints of one organization on one replica.
pub const SIGN_EVERY: Duration = Duration::from_secs(1);

/// One organization on this replica.
#[derive(Debug)]
pub struct Org {
    /// The writer.
    pub writer: Mutex<Store>,
    /// The cache that answers reads.
    pub follower: Follower,
    /// Signs checkpoints of the cache's head, when the replica has a key.
    pub signer: Option<Signer>,
}

/// The latest checkpoint this replica signed of one organization's head.
#[derive(Debug)]
pub struct Signer {
    key: SigningKey,
    latest: RwLock<Checkpoint>,
    signed: AtomicU64,
}

impl Signer {
    /// Signs the policy's head now: at the host clock, or at the head event's time when the
    /// clock lags it (the core refuses a checkpoint dated before the head it vouches for).
    fn sign(key: &SigningKey, p: &Policy) -> Checkpoint {
        p.checkpoint(Now::Clock.resolve(p), key)
            .expect("a checkpoint dated at or after the head signs")
    }

    /// The latest checkpoint.
    pub fn latest(&self) -> Checkpoint {
        self.latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many checkpoints this replica has signed of the organization.
    pub fn signed(&self) -> u64 {
        self.signed.load(Ordering::Relaxed)
    }
}

/// Signs after each change the cache sees (this replica's appends and other replicas'), at most
/// once per [`SIGN_EVERY`]; stops when the replica does.
fn sign_loop(org: &Org, stopping: &AtomicBool) {
    let Some(signer) = &org.signer else { return };
    let mut last = Instant::now();
    while !stopping.load(Ordering::Relaxed) {
        let signed_seq = signer
            .latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .seq();
        if !org
            .follower
            .wait_for(signed_seq + 1, Duration::from_millis(250))
        {
            continue;
        }
        let wait = SIGN_EVERY.saturating_sub(last.elapsed());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        let c = org.follower.read(|p| Signer::sign(&signer.key, p));
        *signer.latest.write().unwrap_or_else(|e| e.into_inner()) = c;
        signer.signed.fetch_add(1, Ordering::Relaxed);
        last = Instant::now();
    }
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
    key: Option<SigningKey>,
    stopping: Arc<AtomicBool>,
    open: RwLock<HashMap<String, Arc<Org>>>,
}

impl Orgs {
    /// Nothing opened yet. With `key`, every organization opened gets a [`Signer`] whose thread
    /// ends once `stopping` is set.
    pub fn new(location: Location, key: Option<SigningKey>, stopping: Arc<AtomicBool>) -> Orgs {
        Orgs {
            location,
            key,
            stopping,
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
        // The first checkpoint is of the head as opened, so there is one to serve at once.
        let signer = self.key.as_ref().map(|key| Signer {
            latest: RwLock::new(follower.read(|p| Signer::sign(key, p))),
            key: key.clone(),
            signed: AtomicU64::new(1),
        });
        let org_state = Arc::new(Org {
            writer: Mutex::new(writer),
            follower,
            signer,
        });
        let mut open = self.open.write().unwrap_or_else(|e| e.into_inner());
        if let Some(o) = open.get(org) {
            // Another request opened it meanwhile: theirs is served, this one is dropped.
            return Ok(Arc::clone(o));
        }
        open.insert(String::from(org), Arc::clone(&org_state));
        drop(open);
        if org_state.signer.is_some() {
            let (o, stopping) = (Arc::clone(&org_state), Arc::clone(&self.stopping));
            let spawned = std::thread::Builder::new()
                .name(String::from("support-access-sign"))
                .spawn(move || sign_loop(&o, &stopping));
            if let Err(e) = spawned {
                eprintln!("support-access: {org}: no checkpoints after the first one: {e}");
            }
        }
        Ok(org_state)
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
