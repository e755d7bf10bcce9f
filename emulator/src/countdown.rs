//! Faults that apply a given number of times (REST and realtime alike).

/// A fault with a count of remaining uses.
pub trait Countdown: Clone {
    fn times_mut(&mut self) -> &mut u32;
}

/// Takes the first fault in `list` that `matches` and has uses left, counting it down and
/// dropping it once used up; returns a copy as it was taken.
pub fn take_first<T: Countdown>(list: &mut Vec<T>, matches: impl Fn(&T) -> bool) -> Option<T> {
    let at = list
        .iter_mut()
        .position(|f| *f.times_mut() > 0 && matches(f))?;
    *list[at].times_mut() -= 1;
    let taken = list[at].clone();
    if *list[at].times_mut() == 0 {
        list.remove(at);
    }
    Some(taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct F(&'static str, u32);

    impl Countdown for F {
        fn times_mut(&mut self) -> &mut u32 {
            &mut self.1
        }
    }

    #[test]
    fn counts_down_and_drops_a_used_up_fault() {
        let mut list = vec![F("a", 2), F("b", 1)];
        assert_eq!(
            take_first(&mut list, |f| f.0 == "b").map(|f| f.0),
            Some("b")
        );
        assert_eq!(list, vec![F("a", 2)]);
        assert!(take_first(&mut list, |f| f.0 == "a").is_some());
        assert!(take_first(&mut list, |f| f.0 == "a").is_some());
        assert!(list.is_empty());
        assert!(take_first(&mut list, |_| true).is_none());
    }
}
