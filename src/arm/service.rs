//! The in-memory host: every job's record and keys in maps, answering ARM requests.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use jiff::Timestamp;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::context::{Config, Context};
use super::handle::handle_provider;
use super::handle::{
    self, JobAnswer, JobRequest, ListScope, Route, Write, datacenter_command, handle_datacenter, handle_job,
};
use super::list::list_page;
use super::path::{ListPosition, Scope, ScopeKey};
use super::record::{BitLockerKeys, Record};
use super::request::{Refusal, Request, Response};
use crate::model::event::Event;
use crate::model::format::FormatVersion;
use crate::model::name::JobName;
use crate::model::policy::Policy;

/// A timer that fired in one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopedEvent {
    /// The job's subscription and resource group.
    pub scope: Scope,
    /// What happened.
    pub event: Event,
}

/// What one input did: the timers that came due first, then its own answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange<T> {
    /// Timers that fired before the input answered, earliest first within each job.
    pub timers: Vec<ScopedEvent>,
    /// The answer.
    pub answer: T,
}

/// The jobs of one resource group: their records and keys, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ScopeJobs {
    /// The scope, spelt as the request that created its first job spelt it.
    scope: Scope,
    records: BTreeMap<JobName, Record>,
    keys: HashMap<JobName, BitLockerKeys>,
}

/// Jobs of every subscription and resource group, answering ARM requests: the in-memory host
/// over [`Record`]s.
///
/// Each request is routed with [`route`](super::route) and answered by
/// [`handle_job`] or [`list_page`] on the records it names;
/// the service only stores what they say to write. Resource groups sit in a hash map, keyed
/// without regard to case ([`Scope::key`]), so a request costs the same among one or ten
/// thousand of them; a deadline index keeps [`next_deadline`](Service::next_deadline) and
/// [`handle_timeout`](Service::handle_timeout) from scanning. Like the core, the service never
/// reads a clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    context: Context,
    scopes: HashMap<ScopeKey, ScopeJobs>,
    /// Every scope that holds a job, in list order (subscription, then resource group).
    order: BTreeSet<ScopeKey>,
    /// Every pending timer: its instant, scope and job, earliest first.
    deadlines: BTreeSet<(Timestamp, ScopeKey, JobName)>,
}

impl Service {
    /// A service with no jobs.
    pub fn new(config: Config, policy: Policy) -> Service {
        Service::with_context(Context { config, policy })
    }

    /// A service with no jobs, answering with `context`.
    pub fn with_context(context: Context) -> Service {
        Service { context, scopes: HashMap::new(), order: BTreeSet::new(), deadlines: BTreeSet::new() }
    }

    /// The configuration and policy every answer uses.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// The record of one job, if it exists as the service stands (timers not yet handled
    /// included).
    pub fn record(&self, scope: &Scope, name: &str) -> Option<&Record> {
        self.scopes.get(&scope.key())?.records.get(name)
    }

    /// Every record, in list order (subscription, resource group, name).
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.order.iter().filter_map(|key| self.scopes.get(key)).flat_map(|s| s.records.values())
    }

    /// The earliest pending timer of any job. O(log n).
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.deadlines.first().map(|(at, _, _)| *at)
    }

    /// Fires every timer due at `now`, earliest first. O(log n) per timer fired, and when none is
    /// due.
    pub fn handle_timeout(&mut self, now: Timestamp) -> Vec<ScopedEvent> {
        let mut fired = Vec::new();
        while let Some((at, key, name)) = self.deadlines.first().cloned() {
            if at > now {
                break;
            }
            let Some(record) = self.scopes.get(&key).and_then(|s| s.records.get(&name)) else {
                // Cannot happen: `store` keeps the index in step. Dropping the orphan keeps the
                // loop finite all the same.
                self.deadlines.remove(&(at, key, name));
                continue;
            };
            let scope = record.scope().clone();
            let answer = handle::handle_timeout(&self.context, record, now);
            if answer.events.is_empty() {
                // Cannot happen either: the index said it was due.
                self.deadlines.remove(&(at, key, name));
                continue;
            }
            let JobAnswer { record, keys, events, .. } = answer;
            fired.extend(events.into_iter().map(|event| ScopedEvent { scope: scope.clone(), event }));
            self.store(&key, &scope, &name, record, keys);
        }
        fired
    }

    /// Answers one ARM request at `now`, after the timers due at `now`.
    pub fn handle(&mut self, now: Timestamp, request: &Request) -> Exchange<Response> {
        let mut timers = self.handle_timeout(now);
        let answer = match handle::route(request) {
            Err(refusal) => refusal.response(),
            Ok(Route::Provider(provider)) => handle_provider(&self.context, &provider),
            Ok(Route::List(list)) => match &list.scope {
                ListScope::ResourceGroup(scope) => {
                    let key = scope.key();
                    let records =
                        self.scopes.get(&key).map(|s| after(&s.records, list.query.skip_token.as_ref()));
                    list_page(&self.context, now, &list, records.into_iter().flatten())
                }
                ListScope::Subscription(subscription) => {
                    let records = self.subscription_records(subscription, list.query.skip_token.as_ref());
                    list_page(&self.context, now, &list, records)
                }
            },
            Ok(Route::Job(mut request_of_job)) => {
                let key = request_of_job.scope.key();
                let jobs = self.scopes.get(&key);
                if let Some(jobs) = jobs {
                    request_of_job.scope = jobs.scope.clone();
                }
                let record = jobs.and_then(|s| s.records.get(&request_of_job.name));
                let keys = jobs.and_then(|s| s.keys.get(&request_of_job.name));
                let JobAnswer { answer, record, keys, events } =
                    handle_job(&self.context, record, keys, now, &request_of_job, request.body.as_ref());
                let JobRequest { scope, name, .. } = &request_of_job;
                timers.extend(timer_events(scope, &events));
                self.store(&key, scope, name, record, keys);
                answer
            }
        };
        Exchange { timers, answer }
    }

    /// Applies a datacenter operation (`packageReceived`, `startTransfer`, `progress`,
    /// `finishTransfer`, `shipBack`, with the fields of a scenario step) to the job at `path`.
    pub fn datacenter(
        &mut self,
        now: Timestamp,
        path: &str,
        operation: &Value,
    ) -> Exchange<Result<(), Refusal>> {
        let mut timers = self.handle_timeout(now);
        let (scope, command) = match datacenter_command(path, operation) {
            Ok(parsed) => parsed,
            Err(body) => return Exchange { timers, answer: Err(body) },
        };
        let key = scope.key();
        let jobs = self.scopes.get(&key);
        let scope = jobs.map(|s| s.scope.clone()).unwrap_or(scope);
        let record = jobs.and_then(|s| s.records.get(command.job()));
        let JobAnswer { answer, record, keys, events } =
            handle_datacenter(&self.context, record, now, &command);
        timers.extend(timer_events(&scope, &events));
        self.store(&key, &scope, command.job(), record, keys);
        Exchange { timers, answer }
    }

    /// The records of one subscription in list order, after `after`: lazily, scope by scope.
    fn subscription_records<'s>(
        &'s self,
        subscription: &str,
        after_position: Option<&'s ListPosition>,
    ) -> impl Iterator<Item = &'s Record> + 's {
        let subscription = subscription.to_ascii_lowercase();
        let start = ScopeKey {
            subscription: subscription.clone(),
            resource_group: after_position.map(|p| p.resource_group.clone()).unwrap_or_default(),
        };
        self.order
            .range(start..)
            .take_while(move |key| key.subscription == subscription)
            .filter_map(|key| self.scopes.get(key))
            .flat_map(move |jobs| {
                let same_group =
                    after_position.filter(|p| jobs.scope.key().resource_group == p.resource_group);
                after(&jobs.records, same_group)
            })
    }

    /// Writes back what a per-record call said, keeping the scope map, the list order and the
    /// deadline index in step.
    fn store(
        &mut self,
        key: &ScopeKey,
        scope: &Scope,
        name: &JobName,
        record: Write<Record>,
        keys: Write<BitLockerKeys>,
    ) {
        let policy = self.context.policy;
        let old =
            self.scopes.get(key).and_then(|s| s.records.get(name)).and_then(|r| r.next_deadline(&policy));
        let new = match &record {
            Write::Unchanged => return self.store_keys(key, name, keys),
            Write::Put(record) => record.next_deadline(&policy),
            Write::Remove => None,
        };
        if old.as_ref().map(|d| d.at) != new.as_ref().map(|d| d.at) {
            if let Some(old) = old {
                self.deadlines.remove(&(old.at, key.clone(), name.clone()));
            }
            if let Some(new) = new {
                self.deadlines.insert((new.at, key.clone(), name.clone()));
            }
        }
        match record {
            Write::Unchanged => {}
            Write::Put(record) => {
                let jobs = self.scopes.entry(key.clone()).or_insert_with(|| ScopeJobs {
                    scope: scope.clone(),
                    records: BTreeMap::new(),
                    keys: HashMap::new(),
                });
                if jobs.records.is_empty() {
                    self.order.insert(key.clone());
                }
                jobs.records.insert(name.clone(), *record);
            }
            Write::Remove => {
                if let Some(jobs) = self.scopes.get_mut(key) {
                    jobs.records.remove(name);
                }
            }
        }
        self.store_keys(key, name, keys);
        if self.scopes.get(key).is_some_and(|s| s.records.is_empty() && s.keys.is_empty()) {
            self.scopes.remove(key);
            self.order.remove(key);
        }
    }

    fn store_keys(&mut self, key: &ScopeKey, name: &JobName, keys: Write<BitLockerKeys>) {
        match keys {
            Write::Unchanged => {}
            Write::Put(keys) => {
                if let Some(jobs) = self.scopes.get_mut(key) {
                    jobs.keys.insert(name.clone(), *keys);
                }
            }
            Write::Remove => {
                if let Some(jobs) = self.scopes.get_mut(key) {
                    jobs.keys.remove(name);
                }
            }
        }
    }
}

/// The records of one scope after `position`'s name (all of them without one).
fn after<'s>(
    records: &'s BTreeMap<JobName, Record>,
    position: Option<&ListPosition>,
) -> impl Iterator<Item = &'s Record> + 's {
    let start = match position {
        Some(p) => Bound::Excluded(p.name.clone()),
        None => Bound::Unbounded,
    };
    records.range::<JobName, _>((start, Bound::Unbounded)).map(|(_, record)| record)
}

/// The events of the timers among `events`, with their scope.
fn timer_events<'e>(scope: &'e Scope, events: &'e [Event]) -> impl Iterator<Item = ScopedEvent> + 'e {
    events
        .iter()
        .filter(|event| event.timer().is_some())
        .map(move |event| ScopedEvent { scope: scope.clone(), event: event.clone() })
}

/// One job's BitLocker keys in a service's serde form.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct KeysEntry<K> {
    scope: Scope,
    job: JobName,
    keys: K,
}

/// The serde form of a service: `formatVersion` first, its context, every record in list order
/// and, apart, every job's BitLocker keys. Indexes are not stored: they follow from the records.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ServiceRepr<R, K> {
    format_version: FormatVersion,
    config: Config,
    policy: Policy,
    records: Vec<R>,
    #[serde(default)]
    bit_locker_keys: Vec<KeysEntry<K>>,
}

impl Serialize for Service {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut keys = Vec::new();
        for key in &self.order {
            let Some(jobs) = self.scopes.get(key) else { continue };
            for name in jobs.records.keys() {
                if let Some(k) = jobs.keys.get(name) {
                    keys.push(KeysEntry { scope: jobs.scope.clone(), job: name.clone(), keys: k });
                }
            }
        }
        ServiceRepr {
            format_version: FormatVersion,
            config: self.context.config.clone(),
            policy: self.context.policy,
            records: self.records().collect(),
            bit_locker_keys: keys,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Service {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let repr = ServiceRepr::<Record, BitLockerKeys>::deserialize(crate::wire::strict::Strict::object(
            deserializer,
        ))?;
        let mut service = Service::new(repr.config, repr.policy);
        for (i, record) in repr.records.into_iter().enumerate() {
            record.job().check(&repr.policy).map_err(|e| D::Error::custom(format!("records[{i}]: {e}")))?;
            let key = record.scope_key();
            if let Some(jobs) = service.scopes.get(&key) {
                if jobs.scope != *record.scope() {
                    return Err(D::Error::custom(format!(
                        "records[{i}]: scope {} is spelt {} by another record",
                        record.scope(),
                        jobs.scope
                    )));
                }
                if jobs.records.contains_key(record.name()) {
                    return Err(D::Error::custom(format!(
                        "records[{i}]: job '{}' appears twice in {}",
                        record.name(),
                        record.scope()
                    )));
                }
            }
            let scope = record.scope().clone();
            let name = record.name().clone();
            service.store(&key, &scope, &name, Write::Put(Box::new(record)), Write::Unchanged);
        }
        for (i, entry) in repr.bit_locker_keys.into_iter().enumerate() {
            let key = entry.scope.key();
            let Some(jobs) = service.scopes.get_mut(&key).filter(|s| s.records.contains_key(&entry.job))
            else {
                return Err(D::Error::custom(format!(
                    "bitLockerKeys[{i}]: job '{}' of {} has no record",
                    entry.job, entry.scope
                )));
            };
            if jobs.keys.insert(entry.job.clone(), entry.keys).is_some() {
                return Err(D::Error::custom(format!(
                    "bitLockerKeys[{i}]: job '{}' appears twice",
                    entry.job
                )));
            }
        }
        Ok(service)
    }
}
