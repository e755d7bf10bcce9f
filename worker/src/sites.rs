//! Loading a site's config from KV (at most once a minute per isolate) and the checks every site
//! route starts with: the site exists, its config is valid, and the caller's `Origin` is allowed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;

use edgechat_core::api::limits::Budget;
use edgechat_core::api::{ApiError, ErrorCode};
use edgechat_core::ids::site::SiteId;
use edgechat_core::site::config::{ConfigError, SiteConfig};
use worker::{Env, Method, Request};

use crate::http::Reply;

pub const CONFIG_BINDING: &str = "CONFIG";
/// How long a site's config (or its absence) is reused, here and in KV's edge cache.
const CACHE_SECONDS: u64 = 60;
/// Bound on cached entries: unknown site ids are cached too, and anyone can ask for many.
const CACHE_CAPACITY: usize = 1024;

pub struct Site {
    pub id: SiteId,
    pub config: Rc<SiteConfig>,
}

#[derive(Clone)]
enum Cached {
    Found(Rc<SiteConfig>),
    Missing,
    Invalid(ConfigError),
}

thread_local! {
    /// Configs (or their errors) of sites that exist. Ids with no config have a cache of their
    /// own (`MISSING`): anyone can ask for many unknown ids, and those must not push real
    /// sites' configs out.
    static CACHE: RefCell<HashMap<SiteId, (u64, Cached)>> = RefCell::new(HashMap::new());
    static MISSING: RefCell<HashMap<SiteId, (u64, Cached)>> = RefCell::new(HashMap::new());
    /// Client addresses over their budget of unknown site ids, until when (ms): their lookups of
    /// ids not in the cache are refused before any KV read.
    static PROBING: RefCell<HashMap<String, u64>> = RefCell::new(HashMap::new());
}

fn probing(address: &str, now_ms: u64) -> bool {
    PROBING.with(|p| p.borrow().get(address).is_some_and(|&until| until > now_ms))
}

fn block(address: String, now_ms: u64) {
    PROBING.with(|p| {
        let mut p = p.borrow_mut();
        p.retain(|_, until| *until > now_ms);
        let until = now_ms + u64::from(edgechat_core::api::limits::RETRY_AFTER_SECONDS) * 1000;
        insert_capped(&mut p, address, until, |until| *until);
    });
}

/// Inserts into a map of at most [`CACHE_CAPACITY`] entries: when it is full, the entry whose
/// `age` is smallest (the oldest) goes first. A hard cap, whatever callers send.
fn insert_capped<K: std::hash::Hash + Eq + Clone, V>(
    map: &mut HashMap<K, V>,
    key: K,
    value: V,
    age: impl Fn(&V) -> u64,
) {
    if map.len() >= CACHE_CAPACITY && !map.contains_key(&key) {
        let oldest = map
            .iter()
            .min_by_key(|(_, v)| age(v))
            .map(|(k, _)| k.clone());
        if let Some(oldest) = oldest {
            map.remove(&oldest);
        }
    }
    map.insert(key, value);
}

fn too_many_unknown() -> Reply {
    let seconds = edgechat_core::api::limits::RETRY_AFTER_SECONDS;
    Reply::error(ApiError::new(
        ErrorCode::RateLimited,
        format!("too many unknown site ids from this address; try again in {seconds} s"),
    ))
    .with_header("Retry-After", seconds.to_string())
}

fn cached(id: &SiteId, now_ms: u64) -> Option<Cached> {
    let fresh = |cache: &RefCell<HashMap<SiteId, (u64, Cached)>>| {
        let cache = cache.borrow();
        let (loaded_ms, entry) = cache.get(id)?;
        (now_ms.saturating_sub(*loaded_ms) < CACHE_SECONDS * 1000).then(|| entry.clone())
    };
    CACHE.with(fresh).or_else(|| MISSING.with(fresh))
}

fn remember(id: SiteId, now_ms: u64, entry: Cached) {
    let store = |cache: &RefCell<HashMap<SiteId, (u64, Cached)>>| {
        let mut cache = cache.borrow_mut();
        cache.retain(|_, (loaded_ms, _)| now_ms.saturating_sub(*loaded_ms) < CACHE_SECONDS * 1000);
        insert_capped(
            &mut cache,
            id.clone(),
            (now_ms, entry.clone()),
            |(loaded, _)| *loaded,
        );
    };
    if matches!(entry, Cached::Missing) {
        MISSING.with(store);
        CACHE.with(|c| c.borrow_mut().remove(&id));
    } else {
        CACHE.with(store);
        MISSING.with(|c| c.borrow_mut().remove(&id));
    }
}

pub async fn load(env: &Env, id: &SiteId) -> Result<Rc<SiteConfig>, Reply> {
    load_at(env, id, worker::Date::now().as_millis(), None).await
}

/// `load`, failing as a KV read fails when the test fault `fault` fires (`faults.rs`).
pub async fn load_or_fault(env: &Env, id: &SiteId, fault: &str) -> Result<Rc<SiteConfig>, Reply> {
    if crate::faults::fire(env, fault) {
        return Err(Reply::error(ApiError::new(
            ErrorCode::Internal,
            "could not read the site config; try again",
        ))
        .with_detail("KV read failed: a test fault"));
    }
    load(env, id).await
}

/// `load` at `now_ms`; `on_kv_miss` runs before a KV read (and may refuse it).
async fn load_at(
    env: &Env,
    id: &SiteId,
    now_ms: u64,
    on_kv_miss: Option<&dyn Fn() -> Result<(), Reply>>,
) -> Result<Rc<SiteConfig>, Reply> {
    let entry = match cached(id, now_ms) {
        Some(entry) => entry,
        None => {
            if let Some(check) = on_kv_miss {
                check()?;
            }
            let kv = env.kv(CONFIG_BINDING).map_err(|_| {
                Reply::error(ApiError::new(
                    ErrorCode::MissingBinding,
                    format!(
                        "the KV namespace binding {CONFIG_BINDING} is missing: add a \
                         [[kv_namespaces]] entry with binding = \"{CONFIG_BINDING}\" to wrangler.toml"
                    ),
                ))
            })?;
            let text = kv
                .get(&id.kv_key())
                .cache_ttl(CACHE_SECONDS)
                .text()
                .await
                .map_err(|e| {
                    Reply::error(ApiError::new(
                        ErrorCode::Internal,
                        "could not read the site config; try again",
                    ))
                    .with_detail(format!("KV read failed: {e}"))
                })?;
            let entry = match text {
                None => Cached::Missing,
                Some(text) => match SiteConfig::from_json(&text) {
                    Ok(config) => Cached::Found(Rc::new(config)),
                    Err(e) => Cached::Invalid(e),
                },
            };
            remember(id.clone(), now_ms, entry.clone());
            entry
        }
    };
    match entry {
        Cached::Found(config) => Ok(config),
        Cached::Missing => Err(Reply::error(ApiError::new(
            ErrorCode::UnknownSite,
            format!(
                "there is no site \"{id}\": check data-site on the script tag, or store its config \
                 with `npm run site-config -- put {id} <file.json>`"
            ),
        ))),
        // The caller learns the field and the rule; the stored value goes to the log only.
        Cached::Invalid(e) => Err(Reply::error(ApiError::new(
            ErrorCode::InvalidSiteConfig,
            format!(
                "{}; fix it and upload it again with `npm run site-config -- put {id} <file.json>`",
                e.redacted()
            ),
        ))
        .with_detail(e.to_string())),
    }
}

/// Whether a route insists on `Origin`. The token route does: browsers send it with every POST,
/// so a caller without one is not a page of the site's. A GET from the Worker's own origin
/// carries none.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OriginRule {
    Required,
    Optional,
}

/// A visitor's `POST` site route (the token, the end): `Origin` required, preflights answered.
/// Not an `async fn`: a future of its own around `route`'s would cost the Worker's upload.
pub fn post<'a, F, Fut>(
    req: Request,
    env: &'a Env,
    raw_site: &'a str,
    handler: F,
) -> impl Future<Output = Reply> + 'a
where
    F: FnOnce(Request, Site) -> Fut + 'a,
    Fut: Future<Output = Result<Reply, Reply>> + 'a,
{
    route(
        req,
        env,
        raw_site,
        OriginRule::Required,
        "POST, OPTIONS",
        handler,
    )
}

/// Runs `handler` for a site route after the checks every site route shares, answers CORS
/// preflights (`OPTIONS`) itself, and marks the reply (the handler's success or its error) with
/// the site, `Vary: Origin` and, for an allowed origin, `Access-Control-Allow-Origin`.
pub async fn route<F, Fut>(
    req: Request,
    env: &Env,
    raw_site: &str,
    rule: OriginRule,
    methods: &'static str,
    handler: F,
) -> Reply
where
    F: FnOnce(Request, Site) -> Fut,
    Fut: Future<Output = Result<Reply, Reply>>,
{
    let origin = req.headers().get("Origin").ok().flatten();
    let mut reply = match checked(&req, env, raw_site, rule, origin.as_deref()).await {
        Err(reply) => reply,
        Ok(site) if req.method() == Method::Options => {
            let mut reply = Reply::preflight(methods);
            reply.allow_origin = origin.clone();
            reply.site = Some(site.id.to_string());
            reply
        }
        Ok(site) => {
            let id = site.id.to_string();
            let (Ok(mut reply) | Err(mut reply)) = handler(req, site).await;
            reply.allow_origin = origin.clone();
            reply.site = Some(id);
            reply
        }
    };
    reply.vary_origin = true;
    if reply.site.is_none() && raw_site.parse::<SiteId>().is_ok() {
        reply.site = Some(raw_site.to_owned());
    }
    reply
}

async fn checked(
    req: &Request,
    env: &Env,
    raw_site: &str,
    rule: OriginRule,
    origin: Option<&str>,
) -> Result<Site, Reply> {
    let id: SiteId = raw_site.parse().map_err(|e| {
        Reply::error(ApiError::new(
            ErrorCode::UnknownSite,
            format!("there is no such site: {e}"),
        ))
    })?;
    let now_ms = worker::Date::now().as_millis();
    let address = std::cell::OnceCell::new();
    let address = || {
        address
            .get_or_init(|| crate::limits::client_address(req))
            .clone()
    };
    let looked_up = std::cell::Cell::new(false);
    let refuse_probers = || {
        looked_up.set(true);
        if probing(&address(), now_ms) {
            Err(too_many_unknown())
        } else {
            Ok(())
        }
    };
    let config = match load_at(env, &id, now_ms, Some(&refuse_probers)).await {
        Err(reply) if looked_up.get() && reply.error_code() == Some(ErrorCode::UnknownSite) => {
            // Unknown site ids (each a KV read) count against the client's address.
            let lookup = Budget::SiteLookup { address: address() };
            crate::limits::take(
                env,
                crate::limits::SITE_LOOKUPS,
                &lookup,
                1,
                "unknown site ids from this address",
            )
            .await
            .inspect_err(|_| block(address(), now_ms))?;
            return Err(reply);
        }
        other => other?,
    };
    let rule = if req.method() == Method::Options {
        OriginRule::Required
    } else {
        rule
    };
    match origin {
        None if rule == OriginRule::Required => Err(Reply::error(ApiError::new(
            ErrorCode::OriginRequired,
            "this route is for the site's web pages: the request must carry an Origin header",
        ))),
        Some(origin) if !config.allows_origin(origin) => {
            // No Access-Control-Allow-Origin: a page of another origin may not read even the
            // error (its developer sees the 403 and the console's CORS message; the log says why).
            Err(Reply::error(ApiError::new(
                ErrorCode::OriginNotAllowed,
                format!(
                    "the origin {origin} is not allowed for site \"{id}\": add it to the site \
                     config's allowed_origins"
                ),
            )))
        }
        _ => Ok(Site { id, config }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_loses_its_oldest_entry_and_never_grows() {
        let mut map = HashMap::new();
        for i in 0..CACHE_CAPACITY as u64 {
            insert_capped(&mut map, i, 1_000 + i, |v| *v);
        }
        insert_capped(&mut map, 9_999, 5_000, |v| *v);
        assert_eq!(map.len(), CACHE_CAPACITY);
        assert!(!map.contains_key(&0), "the oldest went");
        assert!(map.contains_key(&1) && map.contains_key(&9_999));
        // Replacing a key that is there removes nothing else.
        insert_capped(&mut map, 1, 6_000, |v| *v);
        assert_eq!(map.len(), CACHE_CAPACITY);
        assert!(map.contains_key(&2));
    }
}
