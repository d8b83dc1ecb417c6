//! Password hashing on the blocking pool.
//!
//! argon2id at the default cost takes tens of milliseconds of CPU and 19 MiB of memory, so it
//! must not run on the async workers, and it must not run unboundedly in parallel either: a
//! burst of sign-ins would otherwise exhaust memory. A semaphore admits one hash per core; the
//! permit travels into the blocking task, so a client that hangs up mid-request cannot free its
//! slot while its hash is still running. Each running hash borrows one of the kept argon2
//! workspaces (at most one per permit), so memory stays flat however many sign-ins come.
//!
//! Stored hashes may also be bcrypt or scrypt, brought by users who moved in from another
//! system (see `latchkey_core::hash`); each refusal waits out the time of the slowest kind
//! present ([`parity`]), so no format, and no unknown address, answers faster than another.

mod parity;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use latchkey_core::hash::{self, Cost, Work, Workspace};
use latchkey_core::{Error, random};
use prometheus_client::metrics::histogram::Histogram;
use tokio::sync::{OnceCell, Semaphore};

use parity::Parity;

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
    /// What verifying each kind of stored hash takes, and so how long a refusal must.
    parity: Parity,
    /// The formats of unusable stored hashes already warned about.
    unusable: Mutex<HashSet<&'static str>>,
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
            parity: Parity::new(Work::Argon2id(cost)),
            unusable: Mutex::default(),
            queue_wait: crate::observe::metrics::hash_wait(),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, Error> {
        let salt = random::bytes::<16>()?;
        let cost = self.cost;
        let (hash, _) = self
            .blocking(move |ws| hash::hash_password_in(ws, &password, &salt, cost))
            .await?;
        hash
    }

    /// Verifies `password` against `stored`, in any format the core verifies. A stored hash
    /// that cannot be used (unknown, malformed, over the cost limits) counts as a mismatch,
    /// logged with the name of its format, so no stored row can turn sign-in into a 500;
    /// the dummy is verified in its place, so that refusal takes the time of any other.
    pub async fn verify(&self, password: String, stored: String) -> Result<bool, Error> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let work = match hash::work(&stored) {
            Ok(work) => work,
            Err(error) => {
                tracing::error!(
                    format = hash::label(&stored),
                    error = error.code(),
                    "a stored password hash cannot be used; the check fails as a wrong password does"
                );
                return self.refuse_with_dummy(password).await;
            }
        };
        let (verdict, took) = self
            .blocking(move |ws| hash::verify_password_in(ws, &password, &stored))
            .await?;
        self.parity.observe(work, took);
        let verdict = verdict.unwrap_or_else(|error| {
            // `work` read the hash already; this is the hash function itself failing.
            tracing::error!(
                ?work,
                error = error.code(),
                "a password check failed to run; treating it as a mismatch"
            );
            false
        });
        if !verdict {
            self.parity.pad(took).await;
        }
        Ok(verdict)
    }

    /// Makes the dummy hash, so that no unknown-email sign-in ever pays for creating it, and
    /// times a wrong password on one stored hash of each kind in `stored_kinds` (from the
    /// store) not timed yet, so that from the first request every refusal takes as long as
    /// the slowest. Run at start-up and again now and then (an import may have brought new
    /// kinds); it logs only what it had not seen before.
    pub async fn warm_up(&self, stored_kinds: &[String]) -> Result<(), Error> {
        self.dummy().await?;
        let floor_before = self.parity.floor().map(|(_, work)| work);
        let guess = format!("{:?}", random::bytes::<16>()?);
        for stored in stored_kinds {
            let work = match hash::work(stored) {
                Ok(work) => work,
                Err(error) => {
                    let format = hash::label(stored);
                    if self.lock_unusable().insert(format) {
                        tracing::warn!(
                            format,
                            error = error.code(),
                            "some stored password hashes cannot be used: those accounts cannot sign in until their password is reset"
                        );
                    }
                    continue;
                }
            };
            if work == self.parity.baseline() || self.parity.knows(work) {
                continue;
            }
            let (guess, stored) = (guess.clone(), stored.clone());
            let (_, took) = self
                .blocking(move |ws| hash::verify_password_in(ws, &guess, &stored))
                .await?;
            self.parity.observe(work, took);
        }
        if floor_before.is_none() && self.parity.floor().is_some() {
            // Timed only now: a store of today's argon2id alone needs no floor.
            let dummy = self.dummy().await?.clone();
            let (_, took) = self
                .blocking(move |ws| hash::verify_password_in(ws, &guess, &dummy))
                .await?;
            self.parity.observe(self.parity.baseline(), took);
        }
        if let Some((floor, slowest)) = self.parity.floor()
            && Some(slowest) != floor_before
        {
            tracing::info!(
                floor_ms = floor.as_millis(),
                slowest = ?slowest,
                "stored password hashes of other kinds than today's argon2id: a refused password takes at least the slowest one's time"
            );
        }
        Ok(())
    }

    fn lock_unusable(&self) -> std::sync::MutexGuard<'_, HashSet<&'static str>> {
        // A panic elsewhere while holding it left a set of names, still good to read.
        self.unusable
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Spends the same work as a real verification, then says no.
    pub async fn verify_dummy(&self, password: String) -> Result<bool, Error> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        self.refuse_with_dummy(password).await
    }

    /// The least time a refused password takes, while hashes slower than today's argon2id
    /// (or of another kind) are known to be stored.
    pub fn refusal_floor(&self) -> Option<Duration> {
        self.parity.floor().map(|(floor, _)| floor)
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

    /// Verifies `password` against the dummy and waits out the floor: a refusal.
    async fn refuse_with_dummy(&self, password: String) -> Result<bool, Error> {
        let dummy = self.dummy().await?.clone();
        let (_, took) = self
            .blocking(move |ws| hash::verify_password_in(ws, &password, &dummy))
            .await?;
        self.parity.observe(self.parity.baseline(), took);
        self.parity.pad(took).await;
        Ok(false)
    }

    async fn dummy(&self) -> Result<&String, Error> {
        self.dummy
            .get_or_try_init(|| async {
                let random_password = format!("{:?}", random::bytes::<16>()?);
                let salt = random::bytes::<16>()?;
                let cost = self.cost;
                // In memory of its own, freed afterwards: made at start-up, it would
                // otherwise keep a workspace for a server that may never see a sign-in.
                let (hash, _) = self
                    .blocking(move |_| hash::hash_password(&random_password, &salt, cost))
                    .await?;
                hash
            })
            .await
    }

    /// Runs `work` on the blocking pool once a slot is free: its result, and how long the
    /// work itself took (not the wait for the slot). The error is the slot's: none free
    /// within [`QUEUE_TIMEOUT`], or the task lost.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Workspace) -> T + Send + 'static,
    ) -> Result<(T, Duration), Error> {
        // Measured, not decided on: the wall clock is right for a histogram, and for how
        // long a check took.
        let queued = Instant::now();
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
            let started = Instant::now();
            let result = work(&mut workspace);
            let took = started.elapsed();
            pool().push(workspace);
            (result, took)
        })
        .await
        .map_err(|_| Error::Internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bcrypt.hashpw(b"ab", bcrypt.gensalt(4))` in Python's `bcrypt` 4.3.
    const BCRYPT: &str = "$2b$04$NRyIDPZ/ubF06ducaDCLB.G0170l8f0NaiZICxEBtXpKliBFd4PkG";

    #[tokio::test]
    async fn a_later_warm_up_learns_the_kinds_an_import_brought() {
        let cheap = Cost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let hasher = Hasher::new(cheap);
        let today = hasher.hash("pw".into()).await.unwrap();
        hasher.warm_up(std::slice::from_ref(&today)).await.unwrap();
        assert!(hasher.parity.floor().is_none(), "argon2id alone");
        // An import added bcrypt and a format nobody verifies; the next look times bcrypt.
        let kinds = [
            today,
            BCRYPT.to_owned(),
            "$6$rounds=5000$salt$hash".to_owned(),
        ];
        hasher.warm_up(&kinds).await.unwrap();
        assert!(hasher.parity.knows(Work::Bcrypt { cost: 4 }));
        assert!(
            hasher.parity.floor().is_some(),
            "a floor once bcrypt is seen"
        );
        assert!(hasher.lock_unusable().contains("sha512-crypt"));
        // Looking again changes nothing and warns about nothing new.
        hasher.warm_up(&kinds).await.unwrap();
        assert_eq!(hasher.lock_unusable().len(), 1);
    }
}
