//! A TCP relay in front of the server: the apps talk to it, and the test cuts it to take the
//! server off the network (connections reset, new ones dropped) and restores it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

pub struct Relay {
    pub url: String,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Relay {
    pub async fn start(server_url: &str) -> Relay {
        let target = server_url.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let up = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (flag, held) = (up.clone(), links.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                // The flag is read under the lock `cut` drains with: a link is either
                // refused here or held in time to be cut.
                let mut alive = held.lock().await;
                if !flag.load(Ordering::Acquire) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                alive.push(tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Relay {
            url,
            up,
            links,
            accept,
        }
    }

    /// The server drops off the network.
    pub async fn cut(&self) {
        self.up.store(false, Ordering::Release);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    /// The server is back.
    pub fn restore(&self) {
        self.up.store(true, Ordering::Release);
    }
}
