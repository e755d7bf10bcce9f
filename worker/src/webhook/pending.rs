//! The events a conversation's object keeps until their work is done: every event is stored
//! here before any work starts (a crash mid-handling leaves it for the alarm), each with its own
//! count of alarm tries (an event that arrives late does not inherit an older one's nearly spent
//! count). Stored as one text value, a line per event: `<tries> <form body>` (form encoding
//! has no spaces and no line breaks), in arrival order. Pure, so tested natively.

/// One kept event: how many alarms have tried it, and its verified form body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub tries: u32,
    pub body: String,
}

/// The kept events, read from their stored text (unreadable lines are dropped: another
/// version's, which could not be handled as written).
pub fn read(text: &str) -> Vec<Kept> {
    text.lines()
        .filter_map(|line| {
            let (tries, body) = line.split_once(' ')?;
            Some(Kept {
                tries: tries.parse().ok()?,
                body: body.to_owned(),
            })
        })
        .filter(|k| !k.body.is_empty())
        .collect()
}

pub fn write(kept: &[Kept]) -> String {
    kept.iter()
        .map(|k| format!("{} {}", k.tries, k.body))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An event as Twilio means it, whichever delivery carried it: its body without `RetryCount`
/// (a redelivery counts up there, and is the same event).
fn same_event(a: &str, b: &str) -> bool {
    let event = |body: &str| -> Vec<(String, String)> {
        url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .filter(|(k, _)| k != "RetryCount")
            .collect()
    };
    a == b || event(a) == event(b)
}

/// `kept` with `body` added (tries 0), unless the same event is there already (a redelivery
/// while the first copy waits: one is enough, and its count stays).
pub fn with(mut kept: Vec<Kept>, body: &str) -> Vec<Kept> {
    if !kept.iter().any(|k| same_event(&k.body, body)) {
        kept.push(Kept {
            tries: 0,
            body: body.to_owned(),
        });
    }
    kept
}

/// `kept` without `body`'s event (its work is done, or it was given up).
pub fn without(kept: Vec<Kept>, body: &str) -> Vec<Kept> {
    kept.into_iter()
        .filter(|k| !same_event(&k.body, body))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_kept_once_each_with_their_own_tries() {
        let kept = with(Vec::new(), "EventType=onMessageAdded&Index=0");
        let kept = with(kept, "EventType=onMessageAdded&Index=1");
        let kept = with(kept, "EventType=onMessageAdded&Index=0");
        assert_eq!(kept.len(), 2, "a redelivery is kept once");
        let mut kept = kept;
        kept[0].tries = 5;
        let text = write(&kept);
        assert_eq!(
            text,
            "5 EventType=onMessageAdded&Index=0\n0 EventType=onMessageAdded&Index=1"
        );
        let read_back = read(&text);
        assert_eq!(read_back, kept);
        // A late event does not inherit the first one's count.
        let late = with(read_back, "EventType=onMessageAdded&Index=2");
        assert_eq!(late.iter().map(|k| k.tries).collect::<Vec<_>>(), [5, 0, 0]);
        let done = without(late, "EventType=onMessageAdded&Index=0");
        assert_eq!(done.len(), 2);
        assert!(read("garbage\nx y\n3 \n").is_empty());
        // A redelivery (RetryCount counted up) is the same event: kept once, released once.
        let first = "EventType=onMessageAdded&RetryCount=0&Index=7";
        let again = "EventType=onMessageAdded&RetryCount=1&Index=7";
        let kept = with(with(Vec::new(), first), again);
        assert_eq!(kept.len(), 1);
        assert!(without(kept, again).is_empty());
        assert!(read("").is_empty());
    }
}
