//! ARM paths: which resource a request names.
//!
//! ```text
//! /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ImportExport/jobs/{name}[/listBitLockerKeys]
//! /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ImportExport/jobs
//! /subscriptions/{sub}/providers/Microsoft.ImportExport/jobs
//! ```
//!
//! Fixed segments are matched without regard to case, as ARM does; a query string may carry
//! `api-version` (accepted, not checked) and `$top` (1 to 100) on lists.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::name::JobName;

/// A subscription and resource group: the scope a job name is unique in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
}

/// A parsed path and its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmPath {
    /// What it names.
    pub target: Target,
    /// `$top`, if given.
    pub top: Option<usize>,
}

/// Parses `path`; the error says which part is wrong.
pub fn parse(path: &str) -> Result<ArmPath, String> {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut top = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "$top" | "%24top" => match value.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => top = Some(n),
                _ => return Err(format!("query `$top`: {value:?} is not a whole number from 1 to 100")),
            },
            _ => {}
        }
    }
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let is = |s: &str, word: &str| s.eq_ignore_ascii_case(word);
    let text = |s: &str, what: &str| {
        if s.is_empty() { Err(format!("path: the {what} is empty")) } else { Ok(s.to_string()) }
    };
    let job = |s: &str| JobName::new(s).map_err(|e| format!("path: job name: {e}"));
    match segments.as_slice() {
        ["", subs, sub, rgs, rg, providers, ns, jobs, rest @ ..]
            if is(subs, "subscriptions")
                && is(rgs, "resourceGroups")
                && is(providers, "providers")
                && is(ns, "Microsoft.ImportExport")
                && is(jobs, "jobs") =>
        {
            let scope = Scope {
                subscription: text(sub, "subscription")?,
                resource_group: text(rg, "resource group")?,
            };
            let target = match rest {
                [] => Target::ResourceGroupJobs { scope },
                [name] => Target::Job { scope, name: job(name)? },
                [name, action] if is(action, "listBitLockerKeys") => {
                    Target::BitLockerKeys { scope, name: job(name)? }
                }
                _ => return Err(format!("path: unexpected segments after `jobs`: {}", rest.join("/"))),
            };
            Ok(ArmPath { target, top })
        }
        ["", subs, sub, providers, ns, jobs]
            if is(subs, "subscriptions")
                && is(providers, "providers")
                && is(ns, "Microsoft.ImportExport")
                && is(jobs, "jobs") =>
        {
            Ok(ArmPath { target: Target::SubscriptionJobs { subscription: text(sub, "subscription")? }, top })
        }
        _ => Err(format!(
            "path: {path:?} is not an Import/Export path (/subscriptions/{{sub}}/resourceGroups/{{rg}}/providers/Microsoft.ImportExport/jobs[/{{name}}])"
        )),
    }
}
