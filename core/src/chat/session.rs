//! The widget's session decisions, with no I/O: what it keeps in localStorage and under which
//! keys, whether a stored conversation can be resumed, and when to refresh the access token.

use crate::ids::sid::ConversationSid;
use crate::ids::site::SiteId;
use crate::visitor::MAX_CREDENTIAL_LEN;

/// localStorage keys, namespaced by site so two sites on one origin never share a visitor.
pub fn visitor_key(site: &SiteId) -> String {
    format!("edgechat:{site}:visitor")
}

pub fn conversation_key(site: &SiteId) -> String {
    format!("edgechat:{site}:conversation")
}

/// "1" when the visitor muted the sound a message makes while the tab is hidden.
pub fn muted_key(site: &SiteId) -> String {
    format!("edgechat:{site}:muted")
}

/// The launcher's look from the site's last public config, for embed.js to draw the launcher
/// right before the app has loaded: `launcher_look(brand, bottom_left)`.
pub fn look_key(site: &SiteId) -> String {
    format!("edgechat:{site}:look")
}

/// The panel's title from the site's last public config, for embed.js's shell (drawn when a
/// visitor opens before the app has loaded).
pub fn title_key(site: &SiteId) -> String {
    format!("edgechat:{site}:title")
}

/// The shell's words in the visitor's language, for embed.js (it draws the launcher and the
/// shell before the app has loaded): [`shell_words`].
pub fn words_key(site: &SiteId) -> String {
    format!("edgechat:{site}:words")
}

/// The keys of the messages embed.js's shell shows, in the order it reads them.
pub const SHELL_WORDS: [&str; 8] = [
    "title",
    "launcher.open",
    "close",
    "log",
    "connecting",
    "composer",
    "composer.placeholder",
    "composer.send",
];

/// The value of [`words_key`]: the direction (`rtl` or `ltr`), then the [`SHELL_WORDS`] as
/// `word` gives them, one a line (a line break inside one becomes a space).
pub fn shell_words(rtl: bool, word: impl Fn(&str) -> String) -> String {
    let mut out = String::from(if rtl { "rtl" } else { "ltr" });
    for key in SHELL_WORDS {
        out.push('\n');
        out.push_str(&word(key).replace(['\n', '\r'], " "));
    }
    out
}

/// `"#E01E5A left"`: the brand colour (empty for the default) and the side, one space apart
/// (widget/embed.ts reads it).
pub fn launcher_look(brand_color: Option<&str>, bottom_left: bool) -> String {
    let side = if bottom_left { "left" } else { "right" };
    format!("{} {side}", brand_color.unwrap_or(""))
}

/// A stored launcher look back: the brand colour (only `#rrggbb`, what a site config allows)
/// and whether it sits bottom left. Anything else reads as the default look. embed.js applies
/// the same rule (widget/look.ts; tests/launcher-look.test.mjs holds the two to agreement).
pub fn parse_launcher_look(stored: &str) -> (Option<&str>, bool) {
    let (brand, side) = stored.split_once(' ').unwrap_or((stored, ""));
    let hex = brand.len() == 7
        && brand.starts_with('#')
        && brand[1..].bytes().all(|b| b.is_ascii_hexdigit());
    (hex.then_some(brand), side == "left")
}

/// What a returning visitor's browser holds, checked for shape; anything malformed is dropped
/// (the caller removes it from storage) rather than sent anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredSession {
    pub visitor_credential: Option<String>,
    pub conversation: Option<ConversationSid>,
}

impl StoredSession {
    /// `signed_in`: the page signed a user in, who has no credential of ours (their user token
    /// proves them), so their conversation stands without one.
    pub fn from_storage(
        site: &SiteId,
        credential: Option<&str>,
        conversation: Option<&str>,
        signed_in: bool,
    ) -> StoredSession {
        // Either format: the Worker refuses a first-format one, and the visitor is then told
        // their conversation ended, rather than left without a word.
        let ours = |c: &str| {
            ["v1", "v2"]
                .iter()
                .any(|v| c.starts_with(&format!("{v}.{site}.")))
        };
        let visitor_credential = credential
            .filter(|c| c.len() <= MAX_CREDENTIAL_LEN && ours(c))
            .map(str::to_owned);
        // A conversation without the visitor who joined it cannot be resumed.
        let conversation = (visitor_credential.is_some() || signed_in)
            .then_some(conversation)
            .flatten()
            .and_then(|c| c.parse().ok());
        StoredSession {
            visitor_credential,
            conversation,
        }
    }
}

/// Whether two credentials are the same visitor's (their version, site and id agree; renewals
/// differ only in issue time and tag). Not a check of either: the Worker verifies.
pub fn same_visitor(a: &str, b: &str) -> bool {
    fn visitor(c: &str) -> Vec<&str> {
        c.splitn(4, '.').take(3).collect()
    }
    let (va, vb) = (visitor(a), visitor(b));
    va.len() == 3 && va == vb
}

/// What looking up the stored conversation found (`client.getConversationBySid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Found, with its `state.current`.
    Found(ConversationState),
    /// Rejected: deleted, or the visitor is no longer a participant.
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationState {
    Active,
    Inactive,
    Closed,
}

impl ConversationState {
    pub fn parse(state: &str) -> Option<ConversationState> {
        Some(match state {
            "active" => ConversationState::Active,
            "inactive" => ConversationState::Inactive,
            "closed" => ConversationState::Closed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// Open the stored conversation (an inactive one becomes active again with a new message).
    Continue(ConversationSid),
    /// Start a new conversation; `notice` says the old one ended (never an endless spinner).
    StartNew { notice: Option<&'static str> },
}

pub const ENDED_NOTICE: &str = "Your previous conversation has ended. This is a new one.";

pub fn resume(stored: Option<&ConversationSid>, lookup: Option<Lookup>) -> Resume {
    match (stored, lookup) {
        (
            Some(sid),
            Some(Lookup::Found(ConversationState::Active | ConversationState::Inactive)),
        ) => Resume::Continue(sid.clone()),
        (Some(_), _) => Resume::StartNew {
            notice: Some(ENDED_NOTICE),
        },
        (None, _) => Resume::StartNew { notice: None },
    }
}

/// How long after receiving a token to renew it, from its lifetime as the Worker states it
/// (`expires_in`, seconds): after 80% of its life, and at least 5 s before it ends. Counted on
/// the visitor's own clock from the moment the token arrived, so a clock that is hours off does
/// not matter. The SDK's `tokenAboutToExpire` usually comes first; this timer does not depend
/// on it.
pub fn refresh_delay_ms(expires_in_seconds: u64) -> u64 {
    let life_ms = expires_in_seconds.saturating_mul(1000);
    let before_expiry = (life_ms / 5).max(5_000);
    life_ms.saturating_sub(before_expiry)
}

pub use crate::site::page::page_address;

/// The page's title while its tab is hidden and `unread` messages came: `"(2) Title"`. `current`
/// is the title now, which may carry an earlier count (this function's own prefix); the title
/// without any count is returned for 0.
pub fn title_with_unread(current: &str, unread: u32) -> String {
    let bare = strip_unread(current);
    if unread == 0 {
        bare.to_owned()
    } else {
        format!("({unread}) {bare}")
    }
}

/// `current` without a `"(n) "` prefix this widget put there.
fn strip_unread(current: &str) -> &str {
    let Some(rest) = current.strip_prefix('(') else {
        return current;
    };
    match rest.split_once(") ") {
        Some((n, bare)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => bare,
        _ => current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CH: &str = "CH0123456789abcdef0123456789abcdef";

    fn site(s: &str) -> SiteId {
        s.parse().unwrap()
    }

    #[test]
    fn keys_are_namespaced_by_site() {
        assert_eq!(visitor_key(&site("acme")), "edgechat:acme:visitor");
        assert_eq!(
            conversation_key(&site("acme")),
            "edgechat:acme:conversation"
        );
        assert_ne!(visitor_key(&site("acme")), visitor_key(&site("acme-2")));
        assert_eq!(look_key(&site("acme")), "edgechat:acme:look");
        assert_eq!(title_key(&site("acme")), "edgechat:acme:title");
        assert_eq!(words_key(&site("acme")), "edgechat:acme:words");
        assert_eq!(
            shell_words(true, |k| if k == "log" { "two\nlines".into() } else { k.to_uppercase() }),
            "rtl\nTITLE\nLAUNCHER.OPEN\nCLOSE\ntwo lines\nCONNECTING\nCOMPOSER\nCOMPOSER.PLACEHOLDER\nCOMPOSER.SEND"
        );
    }

    #[test]
    fn the_launcher_look_is_brand_then_side() {
        assert_eq!(launcher_look(Some("#E01E5A"), true), "#E01E5A left");
        assert_eq!(launcher_look(None, false), " right");
        assert_eq!(parse_launcher_look("#E01E5A left"), (Some("#E01E5A"), true));
        assert_eq!(parse_launcher_look(" right"), (None, false));
        assert_eq!(parse_launcher_look("red;x:y left"), (None, true));
        assert_eq!(parse_launcher_look(""), (None, false));
    }

    #[test]
    fn renewals_of_one_visitor_are_the_same_visitor() {
        let a = "v2.acme.4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11.0.1800000000.tagA";
        let renewed = "v2.acme.4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11.0.1800003600.tagB";
        let other = "v2.acme.5f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11.0.1800000000.tagA";
        assert!(same_visitor(a, renewed));
        assert!(!same_visitor(a, other));
        assert!(!same_visitor(
            a,
            "v2.other.4f1c7c1e-8a4d-4c8e-9d53-2f0f3d0f9a11.0.1.t"
        ));
        assert!(!same_visitor("junk", "junk"));
    }

    #[test]
    fn stored_session_keeps_only_well_formed_values_for_this_site() {
        let acme = site("acme");
        let s = StoredSession::from_storage(&acme, Some("v1.acme.x.y"), Some(CH), false);
        assert_eq!(s.visitor_credential.as_deref(), Some("v1.acme.x.y"));
        assert_eq!(s.conversation.as_ref().map(|c| c.as_str()), Some(CH));
        let other = StoredSession::from_storage(&acme, Some("v1.acme-2.x.y"), Some(CH), false);
        assert_eq!(other, StoredSession::default(), "another site's credential");
        let junk = StoredSession::from_storage(&acme, Some("v1.acme.x.y"), Some("CH123"), false);
        assert_eq!(junk.conversation, None);
        let orphan = StoredSession::from_storage(&acme, None, Some(CH), false);
        assert_eq!(
            orphan.conversation, None,
            "no conversation without its visitor"
        );
        let user = StoredSession::from_storage(&acme, None, Some(CH), true);
        assert_eq!(
            user.conversation.as_ref().map(|c| c.as_str()),
            Some(CH),
            "a signed-in user's stands without a credential"
        );
        let huge = "v1.acme.".to_owned() + &"a".repeat(MAX_CREDENTIAL_LEN);
        assert_eq!(
            StoredSession::from_storage(&acme, Some(&huge), None, false),
            StoredSession::default()
        );
    }

    #[test]
    fn resume_continues_open_conversations_and_starts_over_with_a_notice_otherwise() {
        let sid: ConversationSid = CH.parse().unwrap();
        assert_eq!(
            resume(Some(&sid), Some(Lookup::Found(ConversationState::Active))),
            Resume::Continue(sid.clone())
        );
        assert_eq!(
            resume(Some(&sid), Some(Lookup::Found(ConversationState::Inactive))),
            Resume::Continue(sid.clone())
        );
        for lookup in [Lookup::Found(ConversationState::Closed), Lookup::Rejected] {
            assert_eq!(
                resume(Some(&sid), Some(lookup)),
                Resume::StartNew {
                    notice: Some(ENDED_NOTICE)
                }
            );
        }
        assert_eq!(resume(None, None), Resume::StartNew { notice: None });
        assert_eq!(
            ConversationState::parse("closed"),
            Some(ConversationState::Closed)
        );
        assert_eq!(ConversationState::parse("Closed"), None);
    }

    #[test]
    fn token_refresh_comes_before_expiry_whatever_the_clock_says() {
        // An hour-long token: renewed after 48 minutes.
        assert_eq!(refresh_delay_ms(3600), 2_880_000);
        // A 30 s token: a fifth of its life (6 s) before it ends.
        assert_eq!(refresh_delay_ms(30), 24_000);
        // A 20 s token: a fifth would be 4 s, so 5 s before it ends.
        assert_eq!(refresh_delay_ms(20), 15_000);
        // Shorter than 5 s: at once.
        assert_eq!(refresh_delay_ms(3), 0);
        assert_eq!(refresh_delay_ms(u64::MAX), u64::MAX - u64::MAX / 5);
    }

    #[test]
    fn page_addresses_keep_scheme_host_and_path() {
        let full = "https://user:pw@shop.example.com/orders/42?token=abc&email=a%40b.c#pay";
        assert_eq!(
            page_address(full, false).as_deref(),
            Some("https://shop.example.com/orders/42")
        );
        assert_eq!(
            page_address(full, true).as_deref(),
            Some("https://shop.example.com/orders/42?token=abc&email=a%40b.c")
        );
        assert_eq!(page_address("javascript:alert(1)", false), None);
        assert_eq!(page_address("not a url", true), None);
        assert_eq!(
            page_address("http://127.0.0.1:8787/", false).as_deref(),
            Some("http://127.0.0.1:8787/")
        );
    }

    #[test]
    fn the_title_counts_what_came_while_hidden_and_comes_back_whole() {
        assert_eq!(title_with_unread("Acme support", 1), "(1) Acme support");
        assert_eq!(title_with_unread("(1) Acme support", 2), "(2) Acme support");
        assert_eq!(title_with_unread("(12) Acme support", 0), "Acme support");
        assert_eq!(title_with_unread("Acme support", 0), "Acme support");
        // A host's own parentheses are not a count.
        assert_eq!(title_with_unread("(beta) Acme", 1), "(1) (beta) Acme");
        assert_eq!(title_with_unread("(beta) Acme", 0), "(beta) Acme");
        assert_eq!(title_with_unread("() Acme", 0), "() Acme");
        assert_eq!(title_with_unread("", 3), "(3) ");
    }
}
