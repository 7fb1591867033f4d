//! Short-lived read caches for the hot path of serving apps (`/apps/<instance>/…`): the principal
//! behind an API token, an org, a running instance. Each entry lives a second or two; a change
//! made through these services clears the affected cache at once, so only *another* server
//! process can act on a stale entry, and for at most the entry's lifetime. Expiry of a cached
//! token is still checked on every use.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A map whose entries expire `ttl` after they were stored; at most `max` entries (it is
/// emptied when full, which only costs misses).
pub(crate) struct TtlCache<K, V> {
    ttl: Duration,
    max: usize,
    map: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// An empty cache.
    pub(crate) fn new(ttl: Duration, max: usize) -> Self {
        Self {
            ttl,
            max,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The value stored for `key`, if it has not expired.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let map = self.map.lock().ok()?;
        let (value, at) = map.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Stores `value` for `key`.
    pub(crate) fn insert(&self, key: K, value: V) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= self.max {
                map.clear();
            }
            map.insert(key, (value, Instant::now()));
        }
    }

    /// Forgets `key`.
    pub(crate) fn remove(&self, key: &K) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(key);
        }
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        if let Ok(mut map) = self.map.lock() {
            map.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let c = TtlCache::new(Duration::from_millis(50), 2);
        c.insert("a", 1);
        assert_eq!(c.get(&"a"), Some(1));
        c.remove(&"a");
        assert_eq!(c.get(&"a"), None);
        c.insert("b", 2);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(c.get(&"b"), None);
        c.insert("c", 3);
        c.insert("d", 4);
        c.insert("e", 5); // full: emptied first
        assert_eq!((c.get(&"c"), c.get(&"e")), (None, Some(5)));
        c.clear();
        assert_eq!(c.get(&"e"), None);
    }
}
