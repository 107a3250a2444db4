//! Lists, one page at a time: at most [`MAX_PAGE`] jobs (or `$top`) per page, with a `nextLink`
//! when more remain, as the service pages its lists.
//!
//! A list reads many records, so it is the host's to gather them: [`list_page`] takes the
//! records of the list's scope in list order ([`Record::list_position`]: resource group without
//! regard to case, then name), starting after the position the request's `$skipToken` names,
//! and makes one page of them. It reads as many records as the page needs plus one (to know
//! whether more remain), so a host that hands them over lazily (an ordered index, a range scan)
//! pays for one page, not for the whole list.
//!
//! `nextLink` is the request's path with its `api-version`, its `$top` and a `$skipToken` naming
//! the last job of the page ([`ListPosition::token`](super::ListPosition::token)); it is a path,
//! not a URL, since this model knows no host name. A job created or removed between two pages is
//! shown or not by where it sorts, as in the service.

use jiff::Timestamp;
use serde_json::Value;

use super::context::Context;
use super::filter::Filter;
use super::handle::{ListRequest, ListScope};
use super::path::{MAX_PAGE, QUERY_VALUE};
use super::record::Record;
use super::request::{Response, error};

/// The record as a request at `now` sees it: `None` if a timer due by the instant the request
/// acts at (`max(now, updatedAt)`) removes it, or if the job as due timers leave it is not one
/// `filter` keeps; the job as due timers leave it otherwise. A list shows what a `GET` at the
/// same instant would.
fn as_of(ctx: &Context, record: &Record, now: Timestamp, filter: Option<&Filter>) -> Option<Value> {
    let caught = record.job().catch_up(&ctx.policy, record.job().acting_instant(now));
    let job = caught.job.as_deref()?;
    if filter.is_some_and(|f| !f.matches(job)) {
        return None;
    }
    let resource = if caught.is_unchanged() {
        record.resource(&ctx.config)
    } else {
        record.with_job(caught.job?.into_owned()).resource(&ctx.config)
    };
    serde_json::to_value(resource).ok()
}

/// Whether `request`'s list at `now` shows `record`: it is in the list's scope, no timer due by
/// then removes it, and the list's `$filter` keeps it as those timers leave it. What
/// [`list_page`] shows of the records it is given; a host that reads rows in batches uses it to
/// keep only the rows a page needs.
pub fn list_shows(ctx: &Context, now: Timestamp, request: &ListRequest, record: &Record) -> bool {
    if !in_scope(request, record) {
        return false;
    }
    let caught = record.job().catch_up(&ctx.policy, record.job().acting_instant(now));
    caught.job.as_deref().is_some_and(|job| request.query.filter.as_ref().is_none_or(|f| f.matches(job)))
}

/// Whether `record` belongs to the list `request` asks for.
fn in_scope(request: &ListRequest, record: &Record) -> bool {
    match &request.scope {
        ListScope::ResourceGroup(scope) => record.scope_key() == scope.key(),
        ListScope::Subscription(subscription) => {
            record.scope().subscription.eq_ignore_ascii_case(subscription)
        }
    }
}

/// One page of the list `request` asks for, from `records`: the records of its scope in list
/// order, starting after `request.query.skip_token` (see the module's documentation). Records
/// out of scope or not after the token are skipped, so passing more is safe, only slower.
///
/// A host fires its due timers before a list (with its deadline sweep); a record whose timer is
/// still due at `now` is shown as that timer leaves it, or not at all if it removes the job.
pub fn list_page<'r>(
    ctx: &Context,
    now: Timestamp,
    request: &ListRequest,
    records: impl IntoIterator<Item = &'r Record>,
) -> Response {
    let size = request.query.top.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let after = request.query.skip_token.as_ref();
    let mut value = Vec::with_capacity(size.min(16));
    let mut last = None;
    let mut more = false;
    for record in records {
        if !in_scope(request, record) {
            continue;
        }
        let position = record.list_position();
        if after.is_some_and(|after| position <= *after) {
            continue;
        }
        let Some(view) = as_of(ctx, record, now, request.query.filter.as_ref()) else { continue };
        if value.len() == size {
            more = true;
            break;
        }
        value.push(view);
        last = Some(position);
    }
    let mut body = serde_json::Map::new();
    body.insert("value".into(), Value::Array(value));
    if let (true, Some(last)) = (more, last) {
        let mut link = format!("{}?", request.path);
        if let Some(version) = &request.query.api_version {
            link.push_str("api-version=");
            link.push_str(&percent_encoding::utf8_percent_encode(version.as_str(), QUERY_VALUE).to_string());
            link.push('&');
        }
        if let Some(top) = request.query.top {
            link.push_str(&format!("$top={top}&"));
        }
        if let Some(filter) = &request.query.filter {
            link.push_str("$filter=");
            link.push_str(&percent_encoding::utf8_percent_encode(filter.as_str(), QUERY_VALUE).to_string());
            link.push('&');
        }
        link.push_str("$skipToken=");
        link.push_str(&last.token());
        body.insert("nextLink".into(), Value::String(link));
    }
    match serde_json::to_value(body) {
        Ok(body) => Response { status: 200, body: Some(body) },
        Err(e) => error(500, "InternalError", e.to_string()).response(),
    }
}
