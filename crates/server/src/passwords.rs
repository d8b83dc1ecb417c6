//! Password hashing on the blocking pool.
//!
//! argon2id at the default cost takes tens of milliseconds of CPU and 19 MiB of memory, so it
//! must not run on the async workers, and it must not run unboundedly in parallel either: a
//! burst of sign-ins would otherwise exhaust memory. A semaphore admits one hash per core; the
//! permit travels into the blocking task, so a client that hangs up mid-request cannot free its
//! slot while its hash is still running. Each running hash borrows one of the kept argon2
//! workspaces (at most one per permit), so memory stays flat however many sign-ins come.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use latchkey_core::hash::{self, Cost, Workspace};
use latchkey_core::{Error, random};
use prometheus_client::metrics::histogram::Histogram;
use tokio::sync::{OnceCell, Semaphore};

/// How long a request may queue for a hashing slot before it is told to come back later.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Hasher {
    cost: Cost,
    permits: Arc<Semaphore>,
    workspaces: Arc<Mutex<Vec<Workspace>>>,
    /// A hash of a random password, verified against when the account does not exist, so an
    /// unknown email costs the same time as a wrong password.
    dummy: OnceCell<String>,
    /// Verifications performed, real and dummy: lets tests prove the dummy work is done.
    verifications: AtomicU64,
    /// How long each hash waited for a slot (registered in the app's metrics).
    queue_wait: Histogram,
}

impl Hasher {
    pub fn new(cost: Cost) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hasher {
            cost,
            permits: Arc::new(Semaphore::new(cores)),
            workspaces: Arc::default(),
            dummy: OnceCell::new(),
            verifications: AtomicU64::new(0),
            queue_wait: crate::observe::metrics::hash_wait(),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, Error> {
        let salt = random::bytes::<16>()?;
        let cost = self.cost;
        self.blocking(move |ws| hash::hash_password_in(ws, &password, &salt, cost))
            .await
    }

    /// Verifies `password` against `stored`; a corrupt stored hash counts as a mismatch
    /// (and is logged), so no stored row can turn sign-in into a 500.
    pub async fn verify(&self, password: String, stored: String) -> Result<bool, Error> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let verdict = self
            .blocking(move |ws| hash::verify_password_in(ws, &password, &stored))
            .await;
        match verdict {
            Err(Error::UnsupportedPasswordHash | Error::PasswordHashTooCostly) => {
                tracing::error!("a stored password hash is unusable; treating it as a mismatch");
                Ok(false)
            }
            other => other,
        }
    }

    /// Makes the dummy hash, so that no unknown-email sign-in ever pays for creating it.
    pub async fn warm_up(&self) -> Result<(), Error> {
        self.dummy().await.map(drop)
    }

    /// Spends the same work as a real verification, then says no.
    pub async fn verify_dummy(&self, password: String) -> Result<bool, Error> {
        let dummy = self.dummy().await?.clone();
        self.verify(password, dummy).await?;
        Ok(false)
    }

    pub fn needs_rehash(&self, stored: &str) -> bool {
        hash::needs_rehash(stored, self.cost)
    }

    /// The queue-wait histogram, for the app's metrics.
    pub fn queue_wait(&self) -> Histogram {
        self.queue_wait.clone()
    }

    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    async fn dummy(&self) -> Result<&String, Error> {
        self.dummy
            .get_or_try_init(|| async {
                let random_password = format!("{:?}", random::bytes::<16>()?);
                let salt = random::bytes::<16>()?;
                let cost = self.cost;
                // In memory of its own, freed afterwards: made at start-up, it would
                // otherwise keep a workspace for a server that may never see a sign-in.
                self.blocking(move |_| hash::hash_password(&random_password, &salt, cost))
                    .await
            })
            .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Workspace) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        // Measured, not decided on: the wall clock is right for a histogram.
        let queued = std::time::Instant::now();
        let permit = tokio::time::timeout(QUEUE_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| Error::Unavailable)?
            .map_err(|_| Error::Internal)?;
        self.queue_wait.observe(queued.elapsed().as_secs_f64());
        let workspaces = self.workspaces.clone();
        tokio::task::spawn_blocking(move || {
            let _held_until_the_work_is_done = permit;
            let pool = || workspaces.lock().unwrap_or_else(|e| e.into_inner());
            let mut workspace = pool().pop().unwrap_or_default();
            let result = work(&mut workspace);
            pool().push(workspace);
            result
        })
        .await
        .map_err(|_| Error::Internal)?
    }
}
