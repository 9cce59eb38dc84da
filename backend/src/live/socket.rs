//! One GraphQL WebSocket connection: async-graphql-axum's `GraphQLWebSocket` speaks the
//! protocol; this module bounds what waits for the socket and closes idle connections.
//!
//! Frames the protocol produces go into a queue of `send_buffer` frames that a writer task
//! empties into the socket. A client that stops reading fills its TCP buffers, then the
//! queue; the next frame finds it full and the connection is dropped as a slow consumer: its
//! subscriptions end at once (their slots and watches are given back) and a close frame
//! `1008 slow consumer` follows the queued frames if the client reads within
//! [`CLOSE_GRACE`], else the socket is simply dropped. Nothing is ever buffered without
//! bound, and one slow client never delays another (each connection has its own queue and
//! writer; the fan-out never waits on a subscriber).
//!
//! The server pings every quarter of the idle timeout. A connection is closed when it has
//! held no subscription for the idle timeout (`1000 idle`), or when nothing at all, not even
//! a pong, arrived from the client for that long (`1001 unresponsive`).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use async_graphql::Executor;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{Sink, SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::{ConnectionSlots, LiveLimits};
use crate::metrics::Metrics;

/// How long a closing connection may take to flush its queue and close frame.
pub const CLOSE_GRACE: Duration = Duration::from_secs(10);
/// Close code for a slow consumer (policy violation: clients reconnect and re-read).
pub const CLOSE_SLOW_CONSUMER: u16 = 1008;
/// Close code for a connection without subscriptions for the idle timeout.
pub const CLOSE_IDLE: u16 = 1000;
/// Close code for a client that answered nothing, not even pings, for the idle timeout.
pub const CLOSE_UNRESPONSIVE: u16 = 1001;

/// Counts the connection in the gauge while it lives.
struct Open(Metrics);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.live_connections(-1);
    }
}

/// The protocol's side of the send queue: never waits; a full queue is an error that ends
/// the protocol (and with it every subscription of the connection).
struct QueueSink {
    queue: mpsc::Sender<Message>,
    overflowed: Arc<AtomicBool>,
}

/// The send queue was full (or the writer gone).
#[derive(Debug)]
struct Overflow;

impl Sink<Message> for QueueSink {
    type Error = Overflow;

    fn poll_ready(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> Poll<Result<(), Overflow>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Overflow> {
        match self.queue.try_send(message) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.overflowed.store(true, Ordering::Relaxed);
                Err(Overflow)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Overflow),
        }
    }

    fn poll_flush(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> Poll<Result<(), Overflow>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> Poll<Result<(), Overflow>> {
        Poll::Ready(Ok(()))
    }
}

/// Serves one upgraded socket until it closes. `on_init` answers `connection_init` with the
/// connection's data (the caller's identity); `slots` counts its open subscriptions.
pub async fn serve<E, OnInit, InitFut>(
    socket: WebSocket,
    executor: E,
    protocol: GraphQLProtocol,
    on_init: OnInit,
    slots: Arc<ConnectionSlots>,
    metrics: Metrics,
    limits: LiveLimits,
) where
    E: Executor,
    OnInit: FnOnce(serde_json::Value) -> InitFut + Send + 'static,
    InitFut: Future<Output = async_graphql::Result<async_graphql::Data>> + Send + 'static,
{
    metrics.live_connections(1);
    let _open = Open(metrics.clone());
    let started = Instant::now();
    let idle = Duration::from_secs(limits.idle_timeout_secs.max(1));
    // Milliseconds after `started` at which the client was last heard from.
    let heard = Arc::new(AtomicU64::new(0));
    let (mut sink, source) = socket.split();
    let input = {
        let heard = heard.clone();
        source.inspect(move |_| {
            let at = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            heard.store(at, Ordering::Relaxed);
        })
    };
    let (queue, mut queued) = mpsc::channel::<Message>(limits.send_buffer.max(1));
    let overflowed = Arc::new(AtomicBool::new(false));
    let protocol_sink = QueueSink {
        queue: queue.clone(),
        overflowed: overflowed.clone(),
    };
    let graphql = GraphQLWebSocket::new_with_pair(protocol_sink, input, executor, protocol)
        .on_connection_init(on_init)
        .serve();
    let mut graphql = Box::pin(graphql);
    let mut writer = tokio::spawn(async move {
        while let Some(message) = queued.recv().await {
            let last = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || last {
                break;
            }
        }
        let _ = sink.close().await;
    });

    let mut tick = tokio::time::interval(idle / 4);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut without_subscription = Instant::now();
    let mut writer_done = false;
    let closing: Option<(&'static str, u16, &'static str)> = loop {
        tokio::select! {
            () = &mut graphql => {
                break overflowed
                    .load(Ordering::Relaxed)
                    .then_some(("slow_consumer", CLOSE_SLOW_CONSUMER, "slow consumer"));
            }
            _ = tick.tick() => {
                let now = Instant::now();
                if slots.open() > 0 {
                    without_subscription = now;
                } else if now.duration_since(without_subscription) >= idle {
                    break Some(("idle", CLOSE_IDLE, "idle: no subscription"));
                }
                let heard_at = started + Duration::from_millis(heard.load(Ordering::Relaxed));
                if now.duration_since(heard_at) >= idle {
                    break Some(("unresponsive", CLOSE_UNRESPONSIVE, "unresponsive"));
                }
                if let Err(mpsc::error::TrySendError::Full(_)) =
                    queue.try_send(Message::Ping(axum::body::Bytes::new()))
                {
                    break Some(("slow_consumer", CLOSE_SLOW_CONSUMER, "slow consumer"));
                }
            }
            _ = &mut writer => {
                writer_done = true;
                break None;
            }
        }
    };
    // Ends every subscription of the connection now, whatever the socket does next.
    drop(graphql);
    if let Some((reason, code, text)) = closing {
        metrics.live_closed(reason);
        tracing::info!(reason, "live: connection closed by the server");
        if !writer_done {
            let frame = Message::Close(Some(CloseFrame {
                code,
                reason: text.into(),
            }));
            let _ = tokio::time::timeout(CLOSE_GRACE, queue.send(frame)).await;
        }
    }
    drop(queue);
    if !writer_done
        && tokio::time::timeout(CLOSE_GRACE, &mut writer)
            .await
            .is_err()
    {
        writer.abort();
    }
}
