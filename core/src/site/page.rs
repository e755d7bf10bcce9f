//! The page a conversation starts on, as agents see it in the conversation's attributes.

/// Keeps what agents need of a page address: scheme, host and path; the query and fragment
/// (where sites put tokens, emails and tracking ids) only when the site asked to keep the query.
/// Anything that is not an http(s) URL is dropped.
pub fn page_address(url: &str, keep_query: bool) -> Option<String> {
    // The browser's own serialization (location.href, document.referrer) is the input, so plain
    // string work is exact here and keeps a URL parser out of the widget's wasm.
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let rest = rest.split('#').next().unwrap_or_default();
    let rest = if keep_query {
        rest
    } else {
        rest.split('?').next().unwrap_or_default()
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    let path = if tail.is_empty() { "/" } else { tail };
    Some(format!("{scheme}://{host}{path}"))
}
