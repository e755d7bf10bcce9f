//! The emulator's state and its one write path.
//!
//! [`World`] is the model and its Sync projection behind one lock, so that a change and the
//! events it causes are one step: a client that subscribes sees either the state before a
//! write or its events, never half. [`App::write`] runs a model mutation, carries each
//! [`Change`] into the projection (which pushes to subscribed clients) and hands it to the
//! observers the transports registered (signed webhooks). Transports
//! import this module; it imports none of them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};

use crate::model::{Account, Change, State, TwilioError, Written};
use crate::projection::Projection;

pub struct World {
    pub model: State,
    pub projection: Projection,
}

/// Who made a write, as Twilio tells webhooks: the REST API (which announces only with
/// `X-Twilio-Webhook-Enabled: true`) or an SDK client (always announced, with its identity).
#[derive(Clone, Debug)]
pub enum Origin {
    Api { announce: bool },
    Sdk { identity: String },
}

/// Called for every change, under the world's lock, after the projection has seen it.
pub type Observer = Box<dyn Fn(&World, &Change, &Origin) + Send + Sync>;

pub struct App {
    pub account: Account,
    /// The emulator's own address (`http://127.0.0.1:<port>`), for links to it (the media
    /// service's); set once it listens.
    base: std::sync::OnceLock<String>,
    world: Mutex<World>,
    observers: RwLock<Vec<Observer>>,
    next_id: AtomicU64,
}

impl App {
    pub fn new(account: Account, model: State) -> App {
        App {
            account,
            base: std::sync::OnceLock::new(),
            world: Mutex::new(World {
                model,
                projection: Projection::default(),
            }),
            observers: RwLock::new(Vec::new()),
            next_id: AtomicU64::new(1),
        }
    }

    pub fn observe(&self, observer: Observer) {
        self.observers.write().unwrap().push(observer);
    }

    /// Runs `write` on the model; on success every change it reports reaches the projection
    /// and the observers before the lock is released.
    pub fn write<T>(
        &self,
        origin: Origin,
        write: impl FnOnce(&mut State) -> Written<T>,
    ) -> Result<T, TwilioError> {
        let mut guard = self.world.lock().unwrap();
        let (value, changes) = write(&mut guard.model)?;
        let world = &mut *guard;
        for change in &changes {
            world.projection.apply(&world.model, change);
        }
        let observers = self.observers.read().unwrap();
        for change in &changes {
            for observe in observers.iter() {
                observe(world, change, &origin);
            }
        }
        Ok(value)
    }

    /// The world, for reads and for the projection's own bookkeeping (subscriptions).
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    pub fn set_public_base(&self, base: String) {
        let _ = self.base.set(base);
    }

    /// The emulator's own address, `http://127.0.0.1:<port>` (no trailing slash).
    pub fn public_base(&self) -> &str {
        self.base
            .get()
            .map_or("http://127.0.0.1:8788", String::as_str)
    }

    /// A number unique in this process (connection ids).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}
