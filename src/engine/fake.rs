//! An in-memory [`LoggingApi`] for the engine's unit tests.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use super::{ApiError, Location, LoggingApi, PermissionWait};
use crate::logging::LoggingConfig;

#[derive(Default)]
pub struct FakeApi {
    pub state: Mutex<HashMap<(String, String), LoggingConfig>>,
    /// `ACCOUNT_ID/REGION` pairs whose every call is denied.
    pub denied: HashSet<String>,
    pub writes: Mutex<Vec<String>>,
}

impl FakeApi {
    fn key(at: Location<'_>) -> (String, String) {
        (at.account_id.to_string(), at.region.to_string())
    }

    fn check(&self, at: Location<'_>) -> Result<(), ApiError> {
        if self
            .denied
            .contains(&format!("{}/{}", at.account_id, at.region))
        {
            return Err(ApiError::new("AccessDeniedException", "denied by the fake"));
        }
        Ok(())
    }
}

impl LoggingApi for FakeApi {
    async fn get(&self, at: Location<'_>) -> Result<Option<LoggingConfig>, ApiError> {
        self.check(at)?;
        Ok(self.state.lock().unwrap().get(&Self::key(at)).cloned())
    }

    async fn put(
        &self,
        at: Location<'_>,
        config: &LoggingConfig,
        _wait: PermissionWait,
    ) -> Result<(), ApiError> {
        self.check(at)?;
        self.writes
            .lock()
            .unwrap()
            .push(format!("put {}/{}", at.account_id, at.region));
        self.state
            .lock()
            .unwrap()
            .insert(Self::key(at), config.clone());
        Ok(())
    }

    async fn delete(&self, at: Location<'_>) -> Result<(), ApiError> {
        self.check(at)?;
        self.writes
            .lock()
            .unwrap()
            .push(format!("delete {}/{}", at.account_id, at.region));
        self.state.lock().unwrap().remove(&Self::key(at));
        Ok(())
    }
}
