//! Sorted collections for the policy's few projects and downloads in progress: a vector kept in
//! key order, searched by bisection. Iteration order is the keys' order, exactly as a `BTreeMap`
//! gives it, so the record and every answer stay the same; for a handful of entries this is as
//! fast, and it spares the browser's .wasm the B-tree code (about 4 KB).
//!
//! Ground floor: imports nothing of the crate.

use alloc::vec::Vec;
use core::borrow::Borrow;

/// A map kept sorted by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub(crate) fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    pub(crate) fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// Inserts or replaces; returns the value replaced.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(core::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub(crate) fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    /// The keys, in order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.entries.iter().map(|(k, _)| k)
    }
}

/// A set kept sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SortedSet<K>(SortedMap<K, ()>);

impl<K> Default for SortedSet<K> {
    fn default() -> Self {
        SortedSet(SortedMap::default())
    }
}

impl<K: Ord> SortedSet<K> {
    pub(crate) fn contains<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.0.contains_key(key)
    }

    /// Adds `key`; whether it was not there yet (as `BTreeSet::insert`).
    pub(crate) fn insert(&mut self, key: K) -> bool {
        self.0.insert(key, ()).is_none()
    }

    /// Removes `key`; whether it was there.
    pub(crate) fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.0.remove(key).is_some()
    }

    /// The members, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &K> + '_ {
        self.0.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::{BTreeMap, BTreeSet};
    use alloc::format;
    use alloc::string::String;

    /// Same answers and the same order as the B-tree collections, for a mixed run of inserts,
    /// replacements and removals.
    #[test]
    fn behaves_like_the_btree_collections() {
        let (mut m, mut bm) = (SortedMap::default(), BTreeMap::new());
        let (mut s, mut bs) = (SortedSet::default(), BTreeSet::new());
        for i in 0..500u32 {
            let k = format!("dl-{}", (i * 7919) % 97);
            assert_eq!(m.insert(k.clone(), i), bm.insert(k.clone(), i));
            assert_eq!(s.insert(k.clone()), bs.insert(k.clone()));
            if i % 3 == 0 {
                let gone = format!("dl-{}", (i * 31) % 97);
                assert_eq!(m.remove(gone.as_str()), bm.remove(gone.as_str()));
                assert_eq!(s.remove(gone.as_str()), bs.remove(gone.as_str()));
            }
            let probe = format!("dl-{}", i % 101);
            assert_eq!(m.get(probe.as_str()), bm.get(probe.as_str()));
            assert_eq!(s.contains(probe.as_str()), bs.contains(probe.as_str()));
        }
        assert!(m.keys().eq(bm.keys()));
        assert!(s.iter().eq(bs.iter()));
        assert_eq!((m.keys().count(), s.iter().count()), (bm.len(), bs.len()));
        let _: Option<&String> = s.iter().next();
    }
}
