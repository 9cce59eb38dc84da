//! Transports wrapping the real HTTP one: a recorder of what went out, and fault injection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use guichet_sdk::transport::{Call, HttpConfig, HttpTransport, Transport, TransportError};

/// Counts the operations sent through it, then sends them for real.
#[derive(Debug)]
pub struct Recorder {
    inner: HttpTransport,
    sent: Mutex<HashMap<&'static str, usize>>,
}

impl Recorder {
    pub fn over(url: &str) -> Arc<Recorder> {
        Arc::new(Recorder {
            inner: HttpTransport::new(&format!("{url}/"), &HttpConfig::default()).unwrap(),
            sent: Mutex::default(),
        })
    }

    pub fn count(&self, operation: &str) -> usize {
        self.sent
            .lock()
            .unwrap()
            .get(operation)
            .copied()
            .unwrap_or(0)
    }
}

#[async_trait::async_trait]
impl Transport for Recorder {
    async fn send(&self, call: Call) -> Result<serde_json::Value, TransportError> {
        *self.sent.lock().unwrap().entry(call.operation).or_default() += 1;
        self.inner.send(call).await
    }
}
