//! ARM paths: which resource a request names, with names read as ARM reads them.
//!
//! ```text
//! /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ImportExport/jobs/{name}[/listBitLockerKeys]
//! /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ImportExport/jobs
//! /subscriptions/{sub}/providers/Microsoft.ImportExport/jobs
//! /providers/Microsoft.ImportExport/locations[/{locationName}]
//! /providers/Microsoft.ImportExport/operations
//! ```
//!
//! Each segment is percent-decoded before it is read (`resourceGroups/r%67` is `rg`). Fixed
//! segments are matched without regard to case, as ARM does. The names are checked:
//!
//! - a resource group name has 1 to 90 characters, letters, digits, underscores, hyphens,
//!   periods and parentheses, and does not end in a period (Azure's *Naming rules and
//!   restrictions for Azure resources*, `Microsoft.Resources/resourcegroups`, and the
//!   template reference of `Microsoft.Resources/resourceGroups`, whose letters and digits are
//!   Unicode's; see `docs/arm.md`);
//! - a subscription id has 1 to 64 ASCII letters, digits, hyphens or underscores (a GUID in
//!   the service; this model lets tests use short ids);
//! - a job name follows [`JobName`]'s rules.
//!
//! Subscription ids and resource group names are compared without regard to case, as ARM does
//! ([`Scope::key`]); a job name is compared exactly.
//!
//! The query string's parameter names are percent-decoded and matched without regard to case,
//! as ARM does: `api-version` (required on every request, one of [`ApiVersion`]'s published
//! versions; kept for `nextLink`), `$top` (a whole number from 1 to [`MAX_PAGE`], digits only),
//! `$skipToken` (the continuation token of a `nextLink`) and `$filter` ([`Filter`]) on lists.
//! `$filter` is read on lists only; other parameters are ignored.
//!
//! A request is read in this order, and the first problem found is the answer ([`PathError`]):
//! the path's shape (the fixed segments, matched without regard to case, and their number: a
//! path that is not an Import/Export path answers 404 `NotFound`, and so does an empty segment
//! such as `rg//providers`), then `api-version` (400 `MissingApiVersionParameter`, or
//! `InvalidApiVersionParameter` when it is not a published version or is given twice), then the
//! other query parameters, then the names (400 `InvalidRequest`, naming the part).

use std::borrow::Cow;
use std::fmt;

use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};

use super::filter::Filter;
use super::quote::quote;
use super::request::Refusal;
use crate::model::name::JobName;

/// A published `api-version` of `Microsoft.ImportExport`: the versions this layer answers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, strum::EnumIter,
)]
pub enum ApiVersion {
    /// `2016-11-01`.
    #[serde(rename = "2016-11-01")]
    V2016_11_01,
    /// `2020-08-01`.
    #[serde(rename = "2020-08-01")]
    V2020_08_01,
    /// `2021-01-01`, the latest.
    #[serde(rename = "2021-01-01")]
    V2021_01_01,
}

impl ApiVersion {
    /// Every published version, oldest first.
    pub const ALL: [ApiVersion; 3] =
        [ApiVersion::V2016_11_01, ApiVersion::V2020_08_01, ApiVersion::V2021_01_01];

    /// The version as the query string spells it, e.g. `2021-01-01`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V2016_11_01 => "2016-11-01",
            ApiVersion::V2020_08_01 => "2020-08-01",
            ApiVersion::V2021_01_01 => "2021-01-01",
        }
    }

    /// The published version spelt `text` (exactly), if there is one.
    pub fn from_query(text: &str) -> Option<ApiVersion> {
        ApiVersion::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request's path or query names nothing this layer answers; see the module's
/// documentation for the order they are found in. [`PathError::refusal`] is how ARM answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// The path is not an Import/Export path (another provider, another shape, an empty
    /// segment): 404 `NotFound`.
    NotImportExport {
        /// The path, without its query.
        path: String,
    },
    /// No `api-version`: 400 `MissingApiVersionParameter`.
    MissingApiVersion,
    /// An `api-version` that is not published (the value, cut for the message), or one given
    /// twice (`None`): 400 `InvalidApiVersionParameter`.
    InvalidApiVersion {
        /// The version given, if given once.
        given: Option<String>,
    },
    /// A malformed name, segment or query value: 400 `InvalidRequest`; the message starts with
    /// the part (`path: resource group …`, ``query `$top`: …``).
    Invalid(String),
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let supported = ApiVersion::ALL.map(ApiVersion::as_str).join(", ");
        match self {
            PathError::NotImportExport { path } => write!(
                f,
                "path: {} is not an Import/Export path (/subscriptions/{{sub}}[/resourceGroups/{{rg}}]/providers/Microsoft.ImportExport/jobs[/{{name}}])",
                quote(path)
            ),
            PathError::MissingApiVersion => write!(
                f,
                "The api-version query parameter (?api-version=) is required for all requests. Supported: {supported}."
            ),
            PathError::InvalidApiVersion { given: Some(given) } => write!(
                f,
                "api-version {} is not supported by Microsoft.ImportExport. Supported: {supported}.",
                quote(given)
            ),
            PathError::InvalidApiVersion { given: None } => f.write_str("query `api-version`: given twice"),
            PathError::Invalid(message) => f.write_str(message),
        }
    }
}

impl PathError {
    /// The refusal ARM answers with: its status, code and this error's message.
    pub fn refusal(&self) -> Refusal {
        let (status, code) = match self {
            PathError::NotImportExport { .. } => (404, "NotFound"),
            PathError::MissingApiVersion => (400, "MissingApiVersionParameter"),
            PathError::InvalidApiVersion { .. } => (400, "InvalidApiVersionParameter"),
            PathError::Invalid(_) => (400, "InvalidRequest"),
        };
        Refusal { status, code: code.to_string(), message: self.to_string() }
    }
}

impl From<String> for PathError {
    fn from(message: String) -> PathError {
        PathError::Invalid(message)
    }
}

/// The most jobs one page of a list holds, and the largest `$top` accepted.
pub const MAX_PAGE: usize = 100;

/// The most characters of a resource group name (ARM's documented limit).
pub const MAX_RESOURCE_GROUP_LEN: usize = 90;

/// The most characters of a subscription id this model accepts.
pub const MAX_SUBSCRIPTION_LEN: usize = 64;

/// A subscription and resource group: the scope a job name is unique in, spelt as the request
/// that created its first job spelt it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scope {
    /// The subscription id.
    pub subscription: String,
    /// The resource group's name.
    pub resource_group: String,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/subscriptions/{}/resourceGroups/{}", self.subscription, self.resource_group)
    }
}

impl Scope {
    /// The key ARM compares scopes by: both names without regard to case.
    pub fn key(&self) -> ScopeKey {
        ScopeKey {
            subscription: self.subscription.to_ascii_lowercase(),
            resource_group: self.resource_group.to_lowercase(),
        }
    }

    /// Checks both names against ARM's rules (see the module's documentation).
    ///
    /// # Errors
    ///
    /// A sentence naming the name that breaks ARM's rules (`path: subscription …`, `path: resource
    /// group …`).
    pub fn check(&self) -> Result<(), String> {
        check_subscription(&self.subscription)?;
        check_resource_group(&self.resource_group)
    }
}

/// A [`Scope`] as ARM compares it: subscription id and resource group name in lower case.
/// Two requests whose scopes have the same key name the same resource group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeKey {
    /// The subscription id, lower case.
    pub subscription: String,
    /// The resource group's name, lower case.
    pub resource_group: String,
}

/// Where a job sits in a list: by resource group (lower case, as ARM compares it), then by name.
/// A `nextLink`'s `$skipToken` carries the position of the last job of its page.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPosition {
    /// The job's resource group, lower case.
    pub resource_group: String,
    /// The job's name.
    pub name: JobName,
}

impl ListPosition {
    /// The continuation token that resumes a list after this job: `{resourceGroup}/{name}`,
    /// percent-encoded for a query string. Opaque to clients.
    pub fn token(&self) -> String {
        let text = format!("{}/{}", self.resource_group, self.name);
        percent_encoding::utf8_percent_encode(&text, QUERY_VALUE).to_string()
    }

    /// Reads a token made by [`token`](ListPosition::token), already percent-decoded as the
    /// query string is; the error names `$skipToken`.
    ///
    /// # Errors
    ///
    /// A sentence naming `$skipToken` when `token` is not a token this layer made.
    pub fn from_token(token: &str) -> Result<ListPosition, String> {
        let bad =
            || format!("query `$skipToken`: {} is not a continuation token of this service", quote(token));
        let (group, name) = token.split_once('/').ok_or_else(bad)?;
        check_resource_group(group).map_err(|_| bad())?;
        let name = JobName::parse(name).map_err(|_| bad())?;
        Ok(ListPosition { resource_group: group.to_lowercase(), name })
    }
}

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// One job.
    Job {
        /// Its scope.
        scope: Scope,
        /// Its name.
        name: JobName,
    },
    /// The *List BitLocker Keys* action of one job.
    BitLockerKeys {
        /// Its scope.
        scope: Scope,
        /// Its name.
        name: JobName,
    },
    /// The jobs of a resource group.
    ResourceGroupJobs {
        /// The scope.
        scope: Scope,
    },
    /// The jobs of a subscription.
    SubscriptionJobs {
        /// The subscription id.
        subscription: String,
    },
    /// The provider's locations: *List Locations*.
    Locations,
    /// One location, by either spelling of its name: *Get Location*.
    Location {
        /// The name as the path gave it, percent-decoded.
        name: String,
    },
    /// The provider's operations: *List Operations*.
    Operations,
}

/// The query parameters this model reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    /// `api-version` (repeated in `nextLink`); reading the path refuses an unpublished one, and a
    /// request without one is refused when it is routed.
    pub api_version: Option<ApiVersion>,
    /// `$top`: the page size, 1 to [`MAX_PAGE`].
    pub top: Option<usize>,
    /// `$skipToken`: where the previous page ended, as its `nextLink` said.
    pub skip_token: Option<ListPosition>,
    /// `$filter`: which jobs a list shows (repeated in `nextLink`).
    pub filter: Option<Filter>,
}

/// A parsed path and its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmPath {
    /// What it names.
    pub target: Target,
    /// Its query parameters.
    pub query: Query,
    /// The path without its query, as sent (for `nextLink`).
    pub path: String,
}

/// What a query value keeps as it is: RFC 3986's unreserved characters. Everything else is
/// percent-encoded in a `nextLink`.
pub(crate) const QUERY_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-decodes one path segment or query item; `what` names it in the error.
fn decode<'a>(raw: &'a str, what: impl FnOnce() -> String) -> Result<Cow<'a, str>, PathError> {
    percent_decode_str(raw).decode_utf8().map_err(|_| {
        PathError::Invalid(format!("{}: {} is not UTF-8 once percent-decoded", what(), quote(raw)))
    })
}

/// ARM's rule for a resource group name (see the module's documentation).
///
/// # Errors
///
/// A sentence naming the resource group and what is wrong with it.
pub fn check_resource_group(name: &str) -> Result<(), String> {
    let what = "path: resource group";
    let count = name.chars().count();
    if count == 0 {
        return Err(format!("{what}: empty (1 to {MAX_RESOURCE_GROUP_LEN} characters)"));
    }
    if count > MAX_RESOURCE_GROUP_LEN {
        return Err(format!(
            "{what}: {} is longer than ARM's limit of {MAX_RESOURCE_GROUP_LEN} characters",
            quote(name)
        ));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')')))
    {
        return Err(format!(
            "{what}: {} holds {c:?}; ARM allows letters, digits, underscores, hyphens, periods and parentheses",
            quote(name)
        ));
    }
    if name.ends_with('.') {
        return Err(format!("{what}: {} ends in a period, which ARM does not allow", quote(name)));
    }
    Ok(())
}

/// This model's rule for a subscription id (see the module's documentation).
///
/// # Errors
///
/// A sentence naming the subscription id and what is wrong with it.
pub fn check_subscription(id: &str) -> Result<(), String> {
    let what = "path: subscription";
    if id.is_empty() {
        return Err(format!("{what}: empty"));
    }
    if id.chars().count() > MAX_SUBSCRIPTION_LEN {
        return Err(format!("{what}: {} is longer than {MAX_SUBSCRIPTION_LEN} characters", quote(id)));
    }
    if let Some(c) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))) {
        return Err(format!(
            "{what}: {} holds {c:?}; a subscription id has ASCII letters, digits, hyphens and underscores",
            quote(id)
        ));
    }
    Ok(())
}

/// Reads the query string (without its `?`): `api-version` first, then the others.
fn parse_query(query: &str, list: bool) -> Result<Query, PathError> {
    let mut out = Query::default();
    let mut pairs = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        pairs.push((decode(raw_key, || "query".into())?, raw_value));
    }
    let mut versions = pairs.iter().filter(|(key, _)| key.eq_ignore_ascii_case("api-version"));
    match (versions.next(), versions.next()) {
        (None, _) => {}
        (Some(_), Some(_)) => return Err(PathError::InvalidApiVersion { given: None }),
        (Some((_, raw)), None) => {
            let value = decode(raw, || "query `api-version`".into())?;
            let version = ApiVersion::from_query(&value)
                .ok_or_else(|| PathError::InvalidApiVersion { given: Some(value.into_owned()) })?;
            out.api_version = Some(version);
        }
    }
    for (key, raw_value) in &pairs {
        let is = |name: &str| key.eq_ignore_ascii_case(name);
        let twice = |name: &str| PathError::Invalid(format!("query `{name}`: given twice"));
        if is("$top") {
            let value = decode(raw_value, || "query `$top`".into())?;
            let top = match value.parse::<usize>() {
                Ok(n) if value.bytes().all(|b| b.is_ascii_digit()) && (1..=MAX_PAGE).contains(&n) => n,
                _ => {
                    return Err(PathError::Invalid(format!(
                        "query `$top`: {} is not a whole number from 1 to {MAX_PAGE} (ARM's most jobs per page)",
                        quote(&value)
                    )));
                }
            };
            if out.top.replace(top).is_some() {
                return Err(twice("$top"));
            }
        } else if list && is("$filter") {
            // `+` is a space in a query string; no name or value a filter compares holds one.
            let spaced = raw_value.replace('+', " ");
            let value = decode(&spaced, || "query `$filter`".into())?;
            let filter = Filter::parse(&value)?;
            if out.filter.replace(filter).is_some() {
                return Err(twice("$filter"));
            }
        } else if is("$skipToken") {
            let value = decode(raw_value, || "query `$skipToken`".into())?;
            let position = ListPosition::from_token(&value)?;
            if out.skip_token.replace(position).is_some() {
                return Err(twice("$skipToken"));
            }
        }
    }
    Ok(out)
}

/// The fixed segments of each Import/Export path: the shape, without its names.
enum Shape<'s> {
    /// `…/resourceGroups/{rg}/providers/Microsoft.ImportExport/jobs[/{name}[/listBitLockerKeys]]`.
    ResourceGroup { sub: &'s str, rg: &'s str, rest: &'s [&'s str] },
    /// `/subscriptions/{sub}/providers/Microsoft.ImportExport/jobs`.
    Subscription { sub: &'s str },
    /// `/providers/Microsoft.ImportExport/locations[/{name}]`.
    Locations { name: Option<&'s str> },
    /// `/providers/Microsoft.ImportExport/operations`.
    Operations,
}

/// The shape of `segments`, or `None` for a path that is not an Import/Export path.
fn shape<'s>(segments: &'s [&'s str]) -> Option<Shape<'s>> {
    let is = |s: &str, word: &str| s.eq_ignore_ascii_case(word);
    // An empty segment is never a name: `rg//providers` is another path, not resource group `rg`.
    if segments.iter().skip(1).any(|s| s.is_empty()) {
        return None;
    }
    match segments {
        ["", subs, sub, rgs, rg, providers, ns, jobs, rest @ ..]
            if is(subs, "subscriptions")
                && is(rgs, "resourceGroups")
                && is(providers, "providers")
                && is(ns, "Microsoft.ImportExport")
                && is(jobs, "jobs") =>
        {
            match rest {
                [] | [_] => Some(Shape::ResourceGroup { sub, rg, rest }),
                [_, action] if is(action, "listBitLockerKeys") => {
                    Some(Shape::ResourceGroup { sub, rg, rest })
                }
                _ => None,
            }
        }
        ["", subs, sub, providers, ns, jobs]
            if is(subs, "subscriptions")
                && is(providers, "providers")
                && is(ns, "Microsoft.ImportExport")
                && is(jobs, "jobs") =>
        {
            Some(Shape::Subscription { sub })
        }
        ["", providers, ns, locations, rest @ ..]
            if is(providers, "providers")
                && is(ns, "Microsoft.ImportExport")
                && is(locations, "locations") =>
        {
            match rest {
                [] => Some(Shape::Locations { name: None }),
                [name] => Some(Shape::Locations { name: Some(name) }),
                _ => None,
            }
        }
        ["", providers, ns, operations]
            if is(providers, "providers")
                && is(ns, "Microsoft.ImportExport")
                && is(operations, "operations") =>
        {
            Some(Shape::Operations)
        }
        _ => None,
    }
}

/// Parses `path` (with its query, if any), in the order of the module's documentation. An
/// absent `api-version` is not refused here (a datacenter operation's path has none);
/// [`route`](super::route) refuses it.
///
/// # Errors
///
/// The first [`PathError`] found: the shape, the `api-version`, the other query parameters,
/// then the names.
pub fn parse(path: &str) -> Result<ArmPath, PathError> {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let raw: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut segments = Vec::with_capacity(raw.len());
    for (i, segment) in raw.iter().enumerate() {
        segments.push(decode(segment, || format!("path: segment {i}"))?);
    }
    let segments: Vec<&str> = segments.iter().map(|s| &**s).collect();
    let not_ours = || PathError::NotImportExport { path: path.to_string() };
    let shape = shape(&segments).ok_or_else(not_ours)?;
    let list = matches!(shape, Shape::ResourceGroup { rest: [], .. } | Shape::Subscription { .. });
    let query = parse_query(query, list)?;
    let scope = |sub: &str, rg: &str| -> Result<Scope, String> {
        check_subscription(sub)?;
        check_resource_group(rg)?;
        Ok(Scope { subscription: sub.to_string(), resource_group: rg.to_string() })
    };
    let job = |s: &str| {
        if s == "." || s == ".." {
            // A dot-segment: clients and proxies resolve it away, so it never names a job.
            return Err(format!("path: job name {}: a dot-segment (`.` or `..`) names no job", quote(s)));
        }
        JobName::parse(s).map_err(|e| format!("path: job name {}: {e}", quote(s)))
    };
    let target = match shape {
        Shape::ResourceGroup { sub, rg, rest } => {
            let scope = scope(sub, rg)?;
            match rest {
                [] => Target::ResourceGroupJobs { scope },
                [name] => Target::Job { scope, name: job(name)? },
                [name, _] => Target::BitLockerKeys { scope, name: job(name)? },
                _ => return Err(not_ours()),
            }
        }
        Shape::Subscription { sub } => {
            check_subscription(sub)?;
            Target::SubscriptionJobs { subscription: sub.to_string() }
        }
        Shape::Locations { name: None } => Target::Locations,
        Shape::Locations { name: Some(name) } => Target::Location { name: name.to_string() },
        Shape::Operations => Target::Operations,
    };
    Ok(ArmPath { target, query, path: path.to_string() })
}
