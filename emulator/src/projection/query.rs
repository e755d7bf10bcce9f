//! Reading: who may read an object, its descriptor, and item queries with paging (one item by
//! index or key, or a page from a bound in either order, continued by page tokens).

use serde_json::{json, Value};

use super::objects::item_json;
use super::{Access, Item, ItemKey, ItemQuery, Kind, Object, Projection, Reader, MAX_PAGE};
use crate::model::{State, TwilioError};

impl Projection {
    pub(super) fn may_read(&self, o: &Object, model: &State, reader: Reader) -> bool {
        match &o.access {
            Access::Service(service) => service == reader.service,
            Access::Peekers { conversation } => model.conversation(conversation).is_some_and(|c| {
                c.service_sid == reader.service && model.may_peek(reader.identity, c)
            }),
            Access::User { service, identity } => {
                service == reader.service && identity == reader.identity
            }
            Access::Participants {
                at_removal: Some(identities),
                ..
            } => identities.iter().any(|i| i == reader.identity),
            Access::Participants { conversation, .. } => {
                model.conversation(conversation).is_some_and(|c| {
                    c.service_sid == reader.service && c.participant(reader.identity).is_some()
                })
            }
        }
    }

    /// The object `id` (SID or unique name) of `kind`, if `reader` may read it.
    pub(super) fn readable(
        &self,
        kind: Kind,
        id: &str,
        model: &State,
        reader: Reader,
    ) -> Result<&Object, TwilioError> {
        let sid = self.names.get(id).map(String::as_str).unwrap_or(id);
        let o = self
            .objects
            .get(sid)
            .filter(|o| o.kind == kind && !o.removed)
            .ok_or_else(|| kind.not_found(id))?;
        if !self.may_read(o, model, reader) {
            return Err(TwilioError::new(
                403,
                54007,
                format!("{} may not read {} {id}", reader.identity, kind.name()),
            ));
        }
        Ok(o)
    }

    /// `GET /v3/{Documents|Lists|Maps}/{id}` (with `Include=items` for maps). `base` is the
    /// scheme and host the client asked, for the links.
    pub fn descriptor(
        &self,
        kind: Kind,
        id: &str,
        include_items: bool,
        model: &State,
        reader: Reader,
        base: &str,
    ) -> Result<Value, TwilioError> {
        let o = self.readable(kind, id, model, reader)?;
        let url = format!("{base}/v3/{}/{}", kind.path(), o.sid);
        let mut out = json!({
            "sid": o.sid,
            "unique_name": o.unique_name,
            "url": url,
            "revision": o.revision.to_string(),
            "last_event_id": o.last_event_id,
            "date_updated": o.date_updated,
            "date_expires": null,
        });
        match kind {
            Kind::Document => out["data"] = o.data.clone(),
            Kind::List | Kind::Map => {
                out["links"] =
                    json!({"items": format!("{url}/Items"), "context": format!("{url}/Context")});
            }
        }
        if include_items && kind == Kind::Map {
            let items: Vec<Value> = o
                .items
                .iter()
                .take(MAX_PAGE)
                .map(|(k, i)| item_json(o, k, i, base))
                .collect();
            out["items"] = json!(items);
        }
        Ok(out)
    }

    /// `GET /v3/{Lists|Maps}/{id}/Items`: one item (`Index` / `Key`) or a page from `From`
    /// (inclusive) in `Order`, with `previous_token` when items lie before the page's first item
    /// and `next_token` when more lie after its last.
    pub fn items(
        &self,
        kind: Kind,
        id: &str,
        query: &ItemQuery,
        model: &State,
        reader: Reader,
        base: &str,
    ) -> Result<Value, TwilioError> {
        let o = self.readable(kind, id, model, reader)?;
        let parse_key = |value: &str, what: &str| -> Result<ItemKey, TwilioError> {
            match kind {
                Kind::List => value
                    .parse()
                    .map(ItemKey::Index)
                    .map_err(|_| TwilioError::invalid(format!("{what} must be an item index"))),
                _ => Ok(ItemKey::Key(value.to_owned())),
            }
        };
        let page = |items: Vec<(&ItemKey, &Item)>, prev: Option<String>, next: Option<String>| {
            let items: Vec<Value> = items
                .into_iter()
                .map(|(k, i)| item_json(o, k, i, base))
                .collect();
            json!({"items": items, "meta": {"previous_token": prev, "next_token": next}})
        };
        let single = match kind {
            Kind::List => query.index.as_deref(),
            _ => query.key.as_deref(),
        };
        if let Some(single) = single {
            let key = parse_key(single, if kind == Kind::List { "Index" } else { "Key" })?;
            return Ok(page(
                o.items.get_key_value(&key).into_iter().collect(),
                None,
                None,
            ));
        }
        let size = match &query.page_size {
            None => 50,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| TwilioError::invalid("PageSize must be a number from 1 to 1000"))?,
        }
        .min(MAX_PAGE);
        // A token continues a query: `{order}.{after|before}.{edge key}`.
        let (descending, start, before) = match &query.page_token {
            Some(token) => {
                let mut parts = token.splitn(3, '.');
                let (Some(order), Some(side), Some(edge)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(TwilioError::invalid(
                        "PageToken is not one this service gave out",
                    ));
                };
                let edge = parse_key(edge, "PageToken")?;
                (order == "desc", Bound::Exclusive(edge), side == "before")
            }
            None => {
                let descending = match query.order.as_deref() {
                    None | Some("asc") => false,
                    Some("desc") => true,
                    Some(_) => return Err(TwilioError::invalid("Order must be asc or desc")),
                };
                let start = match &query.from {
                    Some(from) => Bound::Inclusive(parse_key(from, "From")?),
                    None => Bound::Unbounded,
                };
                (descending, start, false)
            }
        };
        // Walk in query order from the start; `before` walks the other way and flips back.
        let walk_down = descending != before;
        let in_range = |k: &ItemKey| match &start {
            Bound::Unbounded => true,
            Bound::Inclusive(b) => {
                if walk_down {
                    k <= b
                } else {
                    k >= b
                }
            }
            Bound::Exclusive(b) => {
                if walk_down {
                    k < b
                } else {
                    k > b
                }
            }
        };
        let ordered: Vec<(&ItemKey, &Item)> = if walk_down {
            o.items.iter().rev().filter(|(k, _)| in_range(k)).collect()
        } else {
            o.items.iter().filter(|(k, _)| in_range(k)).collect()
        };
        let more = ordered.len() > size;
        let mut chosen: Vec<(&ItemKey, &Item)> = ordered.into_iter().take(size).collect();
        if before {
            chosen.reverse();
        }
        let order = if descending { "desc" } else { "asc" };
        let (first, last) = match (chosen.first(), chosen.last()) {
            (Some(f), Some(l)) => (f.0.clone(), l.0.clone()),
            _ => return Ok(page(chosen, None, None)),
        };
        // Is anything beyond `edge` going `down` (towards lower keys) or up?
        let beyond = |edge: &ItemKey, down: bool| {
            if down {
                o.items.range(..edge.clone()).next().is_some()
            } else {
                o.items.range(edge.clone()..).nth(1).is_some()
            }
        };
        let (has_prev, has_next) = if before {
            (more, beyond(&last, descending))
        } else {
            (beyond(&first, !descending), more)
        };
        let token = |side: &str, edge: &ItemKey| format!("{order}.{side}.{}", edge.url_part());
        Ok(page(
            chosen,
            has_prev.then(|| token("before", &first)),
            has_next.then(|| token("after", &last)),
        ))
    }
}

enum Bound {
    Unbounded,
    Inclusive(ItemKey),
    Exclusive(ItemKey),
}
