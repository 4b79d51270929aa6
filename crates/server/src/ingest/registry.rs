//! Which devices the organisation has registered, for the listeners' lookups. Reloaded when
//! the organisation changes (`org apply` from another process bumps its version).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use domain::{ExternalId, Protocol};
use storage::{RegisteredDevice, Store, StoreError};

#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// The organisation version loaded; `None` before the first load.
    version: Option<i64>,
    devices: HashMap<(Protocol, ExternalId), RegisteredDevice>,
}

impl Registry {
    pub fn lookup(&self, protocol: Protocol, id: &ExternalId) -> Option<RegisteredDevice> {
        let inner = self.inner.read().ok()?;
        inner.devices.get(&(protocol, id.clone())).cloned()
    }

    /// Reloads from the store if the organisation changed; returns whether it did.
    pub fn refresh(&self, store: &dyn Store) -> Result<bool, StoreError> {
        let version = store.org_version()?;
        let current = self.inner.read().ok().and_then(|i| i.version);
        if current == Some(version) {
            return Ok(false);
        }
        let devices = store
            .devices()?
            .into_iter()
            .map(|d| ((d.protocol, d.external_id.clone()), d))
            .collect();
        if let Ok(mut inner) = self.inner.write() {
            *inner = Inner {
                version: Some(version),
                devices,
            };
        }
        Ok(true)
    }

    pub fn len(&self) -> usize {
        self.inner.read().map(|i| i.devices.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
