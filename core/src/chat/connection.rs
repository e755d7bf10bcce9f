//! The widget's connection as one state machine: connecting (config, token, the SDK's realm, the
//! Client), ready (the SDK's own link state and the token's renewal), failed, or not started.
//! The widget holds one [`Connection`] and asks it before acting: it says whether to connect,
//! whether a renewal may start, and whether a reconnection needs the log caught up. A renewal
//! timer lives in the state: replacing or leaving the state cancels it, so no stale timer fires.

/// Why the widget could not connect; what the visitor is told follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The SDK's script did not load.
    Unavailable,
    /// The Worker or Twilio could not be reached, or refused the token.
    CantConnect,
    /// The site is not set up for this page (unknown site, origin not allowed, misconfigured).
    NotSetUp,
    /// The Worker is refusing requests from here for now (429); retried after this many seconds.
    Busy(u32),
}

/// What the view shows of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing loaded yet (a new visitor who has not opened the panel).
    Idle,
    Connecting,
    Ready,
    Failed(Failure),
}

/// The SDK's link to Twilio, as its `connectionStateChanged` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Connected,
    Disconnecting,
    Disconnected,
    /// The token was refused.
    Denied,
    Error,
}

impl Link {
    /// The SDK's name for a state; `None` for a name this version does not know.
    pub fn parse(state: &str) -> Option<Link> {
        Some(match state {
            "connecting" => Link::Connecting,
            "connected" => Link::Connected,
            "disconnecting" => Link::Disconnecting,
            "disconnected" => Link::Disconnected,
            "denied" => Link::Denied,
            "error" => Link::Error,
            _ => return None,
        })
    }

    /// The Client will not come up with this token: its initialization has failed.
    pub fn is_refusal(self) -> bool {
        matches!(self, Link::Denied | Link::Error)
    }
}

/// Something that can be cancelled: a renewal timer.
pub trait Cancel {
    fn cancel(&self);
}

/// Where the token's renewal stands while the connection is ready.
#[derive(Debug, PartialEq)]
pub enum Renewal<T> {
    /// Nothing armed: the SDK's next warning starts a renewal (after one gave up).
    Waiting,
    /// A timer renews before expiry in case the SDK's warning comes late (a sleeping tab).
    Scheduled(T),
    /// A token is being fetched and handed over; `expired` once the SDK said the token it holds
    /// has expired (the new one is then handed over as a reconnection, not an update).
    Running { expired: bool },
}

/// The connection, from the first open to the page's end.
#[derive(Debug, PartialEq, Default)]
pub enum Connection<T: Cancel> {
    #[default]
    Idle,
    Connecting,
    Ready {
        link: Link,
        renewal: Renewal<T>,
    },
    Failed(Failure),
}

impl<T: Cancel> Connection<T> {
    pub fn phase(&self) -> Phase {
        match self {
            Connection::Idle => Phase::Idle,
            Connection::Connecting => Phase::Connecting,
            Connection::Ready { .. } => Phase::Ready,
            Connection::Failed(failure) => Phase::Failed(*failure),
        }
    }

    /// Connected once, and the SDK's link is down now: the visitor is told it reconnects.
    pub fn reconnecting(&self) -> bool {
        matches!(self, Connection::Ready { link, .. } if *link != Link::Connected)
    }

    /// A connection attempt begins, unless one is under way or done (then `false`).
    pub fn begin(&mut self) -> bool {
        match self {
            Connection::Idle | Connection::Failed(_) => {
                *self = Connection::Connecting;
                true
            }
            Connection::Connecting | Connection::Ready { .. } => false,
        }
    }

    /// The attempt under way succeeded: ready, a renewal `timer` armed. `false` (and the timer
    /// cancelled) when no attempt was under way any more.
    pub fn ready(&mut self, timer: T) -> bool {
        if !matches!(self, Connection::Connecting) {
            timer.cancel();
            return false;
        }
        *self = Connection::Ready {
            link: Link::Connected,
            renewal: Renewal::Scheduled(timer),
        };
        true
    }

    /// The attempt under way failed.
    pub fn fail(&mut self, failure: Failure) {
        if matches!(self, Connection::Connecting) {
            *self = Connection::Failed(failure);
        }
    }

    /// Back to the start (the visitor asked to try again, or the session starts over as a new
    /// visitor); whatever was armed is cancelled.
    pub fn reset(&mut self) {
        self.leave_ready();
        *self = Connection::Idle;
    }

    /// The SDK's link changed. `true` when it came back after being down, so the log must
    /// catch up on what was missed meanwhile.
    pub fn link_changed(&mut self, to: Link) -> bool {
        match self {
            Connection::Ready { link, .. } => {
                let came_back = *link != Link::Connected && to == Link::Connected;
                *link = to;
                came_back
            }
            _ => false,
        }
    }

    /// The token is due for renewal: the SDK warned (`expired` when it says the token has
    /// expired) or the timer fired. `true` when a renewal should start now; `false` when one is
    /// under way (it then learns of the expiry) or there is no connection to renew.
    pub fn renewal_due(&mut self, expired: bool) -> bool {
        let Connection::Ready { renewal, .. } = self else {
            return false;
        };
        match renewal {
            Renewal::Running { expired: e } => {
                *e |= expired;
                false
            }
            Renewal::Scheduled(timer) => {
                timer.cancel();
                *renewal = Renewal::Running { expired };
                true
            }
            Renewal::Waiting => {
                *renewal = Renewal::Running { expired };
                true
            }
        }
    }

    /// Whether the renewal under way must hand its token over as after an expiry.
    pub fn renewal_expired(&self) -> bool {
        matches!(
            self,
            Connection::Ready {
                renewal: Renewal::Running { expired: true },
                ..
            }
        )
    }

    /// A token was handed over, or the connection was made again with one: the next renewal
    /// is armed with `timer`, replacing (cancelling) whichever was.
    pub fn schedule(&mut self, timer: T) {
        match self {
            Connection::Ready { renewal, .. } => {
                if let Renewal::Scheduled(old) = renewal {
                    old.cancel();
                }
                *renewal = Renewal::Scheduled(timer);
            }
            _ => timer.cancel(),
        }
    }

    /// The renewal under way gave up (out of attempts): the SDK's next warning tries again.
    pub fn renewal_gave_up(&mut self) {
        if let Connection::Ready { renewal, .. } = self {
            if matches!(renewal, Renewal::Running { .. }) {
                *renewal = Renewal::Waiting;
            }
        }
    }

    fn leave_ready(&mut self) {
        if let Connection::Ready {
            renewal: Renewal::Scheduled(timer),
            ..
        } = self
        {
            timer.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// A timer that remembers being cancelled.
    #[derive(Debug, Clone, Default)]
    struct Timer(Rc<Cell<bool>>);

    impl Timer {
        fn cancelled(&self) -> bool {
            self.0.get()
        }
    }

    impl Cancel for Timer {
        fn cancel(&self) {
            self.0.set(true);
        }
    }

    impl PartialEq for Timer {
        fn eq(&self, other: &Timer) -> bool {
            Rc::ptr_eq(&self.0, &other.0)
        }
    }

    fn ready() -> (Connection<Timer>, Timer) {
        let mut c = Connection::default();
        assert!(c.begin());
        let timer = Timer::default();
        assert!(c.ready(timer.clone()));
        (c, timer)
    }

    #[test]
    fn the_sdk_states_are_parsed_and_unknown_names_are_none() {
        for (name, link) in [
            ("connecting", Link::Connecting),
            ("connected", Link::Connected),
            ("disconnecting", Link::Disconnecting),
            ("disconnected", Link::Disconnected),
            ("denied", Link::Denied),
            ("error", Link::Error),
        ] {
            assert_eq!(Link::parse(name), Some(link));
            assert_eq!(link.is_refusal(), matches!(name, "denied" | "error"));
        }
        assert_eq!(Link::parse("Connected"), None);
        assert_eq!(Link::parse(""), None);
    }

    #[test]
    fn one_attempt_at_a_time_and_none_once_ready() {
        let mut c = Connection::<Timer>::default();
        assert_eq!(c.phase(), Phase::Idle);
        assert!(c.begin());
        assert_eq!(c.phase(), Phase::Connecting);
        assert!(!c.begin(), "a second open while connecting");
        c.fail(Failure::Busy(30));
        assert_eq!(c.phase(), Phase::Failed(Failure::Busy(30)));
        assert!(c.begin(), "a failure may be retried");
        assert!(c.ready(Timer::default()));
        assert_eq!(c.phase(), Phase::Ready);
        assert!(!c.begin(), "ready: nothing to connect");
        c.fail(Failure::CantConnect);
        assert_eq!(c.phase(), Phase::Ready, "no attempt under way to fail");
        assert!(!c.reconnecting());
    }

    #[test]
    fn an_attempt_overtaken_by_a_reset_does_not_make_it_ready() {
        let mut c = Connection::default();
        assert!(c.begin());
        c.reset();
        let late = Timer::default();
        assert!(!c.ready(late.clone()));
        assert_eq!(c.phase(), Phase::Idle);
        assert!(late.cancelled(), "its renewal timer never fires");
    }

    #[test]
    fn a_link_that_comes_back_catches_up_once() {
        let (mut c, _) = ready();
        assert!(!c.link_changed(Link::Connected), "it was up");
        assert!(!c.link_changed(Link::Disconnected));
        assert!(c.reconnecting());
        assert!(!c.link_changed(Link::Connecting));
        assert!(c.reconnecting());
        assert!(c.link_changed(Link::Connected), "back: catch up");
        assert!(!c.reconnecting());
        assert!(!c.link_changed(Link::Connected), "only once");
        // Before the connection is ready the SDK's states change nothing.
        let mut c = Connection::<Timer>::default();
        assert!(!c.link_changed(Link::Connected));
        assert!(!c.reconnecting());
    }

    #[test]
    fn one_renewal_at_a_time_and_it_learns_of_an_expiry() {
        let (mut c, first) = ready();
        assert!(c.renewal_due(false), "the SDK's warning starts a renewal");
        assert!(first.cancelled(), "the timer it replaced never fires");
        assert!(
            !c.renewal_due(false),
            "the timer's own warning: one is running"
        );
        assert!(!c.renewal_expired());
        assert!(
            !c.renewal_due(true),
            "the SDK says the token expired meanwhile"
        );
        assert!(
            c.renewal_expired(),
            "the running renewal hands over as after an expiry"
        );
        let next = Timer::default();
        c.schedule(next.clone());
        assert!(!next.cancelled());
        assert!(!c.renewal_expired());
        assert!(c.renewal_due(false), "the next one runs when due");
    }

    #[test]
    fn a_new_timer_cancels_the_one_it_replaces() {
        let (mut c, first) = ready();
        let second = Timer::default();
        c.schedule(second.clone());
        assert!(first.cancelled());
        assert!(!second.cancelled());
        c.reset();
        assert!(second.cancelled(), "nothing fires after a reset");
        let orphan = Timer::default();
        c.schedule(orphan.clone());
        assert!(orphan.cancelled(), "no connection: nothing to renew");
    }

    #[test]
    fn a_renewal_that_gave_up_waits_for_the_sdks_next_warning() {
        let (mut c, _) = ready();
        assert!(c.renewal_due(true));
        c.renewal_gave_up();
        assert!(!c.renewal_expired());
        assert!(
            matches!(
                c,
                Connection::Ready {
                    renewal: Renewal::Waiting,
                    ..
                }
            ),
            "{c:?}"
        );
        assert!(c.renewal_due(false), "the next warning starts one");
        // Not connected: nothing renews.
        let mut idle = Connection::<Timer>::default();
        assert!(!idle.renewal_due(true));
        idle.renewal_gave_up();
        assert_eq!(idle.phase(), Phase::Idle);
    }
}
