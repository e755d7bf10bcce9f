//! Fault switches for tests: the Worker var `EDGECHAT_TEST_FAULTS` (set only by the test
//! suite's `wrangler dev`; never in `wrangler.toml`) names faults and how many times each fires
//! in an isolate, e.g. `object_unreachable:1,kv_read_object:2,crash_after_reply:1`. Without the
//! var, every switch is off and costs one cached lookup. What each fault stands for:
//! - `object_unreachable`: the conversation's Durable Object cannot be reached from the route;
//! - `kv_read_route`, `kv_read_object`: reading the site's config from KV fails, in the webhook
//!   route or in the conversation's object (placed where they read, cache or not);
//! - `crash_after_reply`: the object dies after a reply went out and before it recorded it.

use std::cell::RefCell;

use worker::Env;

thread_local! {
    /// Each fault with the times it still fires; `None` until the var is read.
    static LEFT: RefCell<Option<Vec<(String, u32)>>> = const { RefCell::new(None) };
}

/// Whether `fault` fires now (and one fewer time from now on).
pub fn fire(env: &Env, fault: &str) -> bool {
    LEFT.with(|left| {
        let mut left = left.borrow_mut();
        let faults = left.get_or_insert_with(|| {
            env.var("EDGECHAT_TEST_FAULTS")
                .map(|v| parse(&v.to_string()))
                .unwrap_or_default()
        });
        match faults
            .iter_mut()
            .find(|(name, times)| name == fault && *times > 0)
        {
            Some((_, times)) => {
                *times -= 1;
                true
            }
            None => false,
        }
    })
}

fn parse(spec: &str) -> Vec<(String, u32)> {
    spec.split(',')
        .filter_map(|item| {
            let (name, times) = item.trim().split_once(':')?;
            Some((name.to_owned(), times.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn faults_are_named_with_their_counts() {
        assert_eq!(
            super::parse("object_unreachable:1, kv_read_route:2,bad,x:y"),
            [
                ("object_unreachable".to_owned(), 1),
                ("kv_read_route".to_owned(), 2)
            ]
        );
        assert!(super::parse("").is_empty());
    }
}
