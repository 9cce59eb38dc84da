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

/// A fault to inject into the next call of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The server processes the request; its answer is lost (the client sees a timeout).
    LoseResponse,
    /// The request never reaches the server; the client sees a timeout.
    TimeOutUnsent,
    /// The request is delivered twice at once; the client gets the first answer.
    Duplicate,
    /// The process freezes before sending (the test then kills it by dropping the call).
    HangUnsent,
    /// The server processes the request, then the process freezes before reading the answer.
    HangAfterProcessing,
}

/// The real transport with faults injected per operation name.
#[derive(Debug)]
pub struct Faulty {
    inner: HttpTransport,
    plan: Mutex<HashMap<&'static str, std::collections::VecDeque<Fault>>>,
    delivered: Mutex<HashMap<&'static str, usize>>,
    hung: tokio::sync::Notify,
}

impl Faulty {
    pub fn over(url: &str) -> Arc<Faulty> {
        Arc::new(Faulty {
            inner: HttpTransport::new(&format!("{url}/"), &HttpConfig::default()).unwrap(),
            plan: Mutex::default(),
            delivered: Mutex::default(),
            hung: tokio::sync::Notify::new(),
        })
    }

    /// Makes the next call of `operation` fail with `fault`.
    pub fn inject(&self, operation: &'static str, fault: Fault) {
        self.plan
            .lock()
            .unwrap()
            .entry(operation)
            .or_default()
            .push_back(fault);
    }

    /// Requests of `operation` that reached the server.
    pub fn delivered(&self, operation: &str) -> usize {
        self.delivered
            .lock()
            .unwrap()
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// Waits until a call is frozen by a hang fault.
    pub async fn wait_hung(&self) {
        self.hung.notified().await;
    }

    async fn deliver(&self, call: Call) -> Result<serde_json::Value, TransportError> {
        *self
            .delivered
            .lock()
            .unwrap()
            .entry(call.operation)
            .or_default() += 1;
        self.inner.send(call).await
    }
}

#[async_trait::async_trait]
impl Transport for Faulty {
    async fn send(&self, call: Call) -> Result<serde_json::Value, TransportError> {
        let fault = self
            .plan
            .lock()
            .unwrap()
            .get_mut(call.operation)
            .and_then(|queue| queue.pop_front());
        match fault {
            None => self.deliver(call).await,
            Some(Fault::LoseResponse) => {
                let _ = self.deliver(call).await;
                Err(TransportError::Timeout)
            }
            Some(Fault::TimeOutUnsent) => Err(TransportError::Timeout),
            Some(Fault::Duplicate) => {
                let (first, _second) = tokio::join!(self.deliver(call.clone()), self.deliver(call));
                first
            }
            Some(Fault::HangUnsent) => {
                self.hung.notify_one();
                std::future::pending().await
            }
            Some(Fault::HangAfterProcessing) => {
                let _ = self.deliver(call).await;
                self.hung.notify_one();
                std::future::pending().await
            }
        }
    }
}
