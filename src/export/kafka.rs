//! A Kafka topics file per Kafka broker: every topic its producers write, with partitions, replication and the
//! consumer groups that read it.
//!
//! A call's `topic` names the topic (a call without one writes to a topic named after the broker). Kafka allows
//! only `a-z A-Z 0-9 . _ -` in topic names, at most 249 of them: other characters become `_` and the design's own
//! name is kept beside it. Partitions bound a consumer group's parallelism, so a topic gets as many as its largest
//! consumer group has workers (replicas × concurrency); replication follows the broker's replicas, at most 3.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    ExportedFile, Exporter, Target, broker_protocol, header_comment, sorted_services, to_yaml,
};
use crate::model::{CallMode, Design, Protocol, Service, ServiceKind};

/// Longest topic name Kafka accepts.
pub const MAX_TOPIC_LEN: usize = 249;

pub(crate) struct KafkaExporter;

impl Exporter for KafkaExporter {
    fn target(&self) -> Target {
        Target::Kafka
    }

    fn export(&self, design: &Design) -> Vec<ExportedFile> {
        sorted_services(design)
            .into_iter()
            .filter(|s| {
                s.kind == ServiceKind::Broker && broker_protocol(design, s) == Some(Protocol::Kafka)
            })
            .map(|broker| {
                let what = format!(
                    "Kafka topics of the broker \"{}\" ({}).",
                    broker.id,
                    broker.display_name()
                );
                ExportedFile {
                    path: format!("kafka/{}.topics.yaml", broker.id),
                    contents: format!(
                        "{}{}",
                        header_comment(design, &what),
                        to_yaml(&topics_file(design, broker))
                    ),
                }
            })
            .collect()
    }
}

/// The topics file of one broker.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TopicsFile {
    /// The broker's service id (its bootstrap host).
    pub broker: String,
    /// Its topics, sorted by name.
    pub topics: Vec<Topic>,
}

/// One topic.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// The Kafka topic name.
    pub name: String,
    /// The topic as the design names it, when Kafka's rules changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design_topic: Option<String>,
    /// Number of partitions: the largest consumer group's workers, at most [`MAX_PARTITIONS`].
    pub partitions: u64,
    /// Why the partitions are fewer than the largest group's workers, when they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions_note: Option<String>,
    /// Copies of each partition.
    pub replication_factor: u32,
    /// Topic-level settings.
    pub configs: BTreeMap<String, String>,
    /// Services that write to it, sorted.
    pub producers: Vec<String>,
    /// Groups that read it, sorted.
    pub consumer_groups: Vec<ConsumerGroup>,
}

/// A consumer group: one consuming service.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConsumerGroup {
    /// The group id: the consuming service's id.
    pub group: String,
    /// Consumers in the group: the service's replicas × concurrency.
    pub consumers: u64,
    /// Where the group sets aside a record whose handling keeps failing (the design's `dead_letter`): Kafka has no
    /// broker-side dead-lettering, so the consumer (Spring Kafka's `DeadLetterPublishingRecoverer`, Kafka
    /// Connect's `errors.deadletterqueue.topic.name`) publishes it there after `max_deliveries`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_topic: Option<String>,
    /// Deliveries of a failing record before it goes to the dead-letter topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deliveries: Option<u32>,
}

/// The dead-letter topic of a consumer group reading `topic`: `<topic>.<group>.dlt`, within Kafka's rules (a long
/// name keeps the group and the suffix whole).
pub fn dead_letter_topic_name(topic: &str, group: &str) -> String {
    let suffix = kafka_topic_name(&format!(".{group}.dlt"));
    let keep = MAX_TOPIC_LEN.saturating_sub(suffix.len());
    let head: String = topic.chars().take(keep).collect();
    kafka_topic_name(&format!("{head}{suffix}"))
}

/// A topic name Kafka accepts.
pub fn kafka_topic_name(topic: &str) -> String {
    let name: String = super::word_chars(topic).take(MAX_TOPIC_LEN).collect();
    // "." and ".." are reserved.
    if name.chars().all(|c| c == '.') {
        name.replace('.', "_")
    } else {
        name
    }
}

/// The most partitions a topic gets: more consumers than partitions sit idle, but thousands of partitions per topic
/// cost the brokers far more than they give.
pub const MAX_PARTITIONS: u64 = 256;

fn topics_file(design: &Design, broker: &Service) -> TopicsFile {
    struct Gathered<'a> {
        producers: Vec<&'a str>,
        groups: BTreeMap<&'a str, u64>,
    }
    // Consumer group -> deliveries before a record is dead-lettered (the largest its deliveries ask for).
    let mut dead_letters: BTreeMap<&str, u32> = BTreeMap::new();
    for edge in &design.edges {
        if edge.mode == CallMode::Async
            && edge.from == broker.id
            && edge.to != broker.id
            && let Some(dead_letter) = edge.dead_letter
        {
            let most = dead_letters.entry(edge.to.as_str()).or_default();
            *most = (*most).max(dead_letter.after_deliveries);
        }
    }
    let mut topics: BTreeMap<String, Gathered> = BTreeMap::new();
    let topic_of = |topic: &Option<String>| topic.clone().unwrap_or_else(|| broker.id.to_string());
    for edge in &design.edges {
        if edge.mode != CallMode::Async || edge.from == edge.to {
            continue;
        }
        if edge.to == broker.id {
            topics
                .entry(topic_of(&edge.topic))
                .or_insert_with(|| Gathered {
                    producers: Vec::new(),
                    groups: BTreeMap::new(),
                })
                .producers
                .push(edge.from.as_str());
        }
    }
    // Deliveries: a delivery with a topic reads that topic; one without reads every topic of the broker.
    for edge in &design.edges {
        if edge.mode != CallMode::Async || edge.from != broker.id || edge.to == broker.id {
            continue;
        }
        let workers = design
            .service(edge.to.as_str())
            .map_or(1, |s| s.total_workers());
        let names: Vec<String> = match &edge.topic {
            Some(topic) => vec![topic.clone()],
            None => topics.keys().cloned().collect(),
        };
        for name in names {
            topics
                .entry(name)
                .or_insert_with(|| Gathered {
                    producers: Vec::new(),
                    groups: BTreeMap::new(),
                })
                .groups
                .insert(edge.to.as_str(), workers);
        }
    }
    // Replicated within what is deployed: never more copies than the broker has replicas.
    let replication_factor = broker.replicas.clamp(1, 3);
    let mut taken = std::collections::BTreeSet::new();
    let topics = topics
        .into_iter()
        .map(|(design_topic, mut gathered)| {
            gathered.producers.sort_unstable();
            gathered.producers.dedup();
            // Two design topics may clean to one name ("a b" and "a_b"): the later one gets a suffix.
            let cleaned = kafka_topic_name(&design_topic);
            let mut name = cleaned.clone();
            let mut n = 2;
            while taken.contains(&name) {
                let suffix = format!("_{n}");
                let keep = cleaned.len().min(MAX_TOPIC_LEN - suffix.len());
                name = format!("{}{suffix}", &cleaned[..keep]);
                n += 1;
            }
            taken.insert(name.clone());
            let workers = gathered.groups.values().copied().max().unwrap_or(1).max(1);
            let partitions = workers.min(MAX_PARTITIONS);
            let groups: Vec<ConsumerGroup> = gathered
                .groups
                .into_iter()
                .map(|(group, consumers)| ConsumerGroup {
                    group: group.to_owned(),
                    consumers,
                    dead_letter_topic: dead_letters
                        .contains_key(group)
                        .then(|| dead_letter_topic_name(&name, group)),
                    max_deliveries: dead_letters.get(group).copied(),
                })
                .collect();
            Topic {
                design_topic: (name != design_topic).then_some(design_topic),
                name,
                partitions,
                partitions_note: (partitions < workers).then(|| {
                    format!(
                        "capped at {MAX_PARTITIONS}: the largest consumer group has {workers} workers, of which \
                         only {MAX_PARTITIONS} can read at once"
                    )
                }),
                replication_factor,
                configs: BTreeMap::from([(
                    "min.insync.replicas".to_owned(),
                    (if replication_factor >= 3 { 2 } else { 1 }).to_string(),
                )]),
                producers: gathered.producers.iter().map(|s| (*s).to_owned()).collect(),
                consumer_groups: groups,
            }
        })
        .collect::<Vec<Topic>>();
    // The dead-letter topics the groups write to: one partition (a trickle of failures, read by people), written
    // by the group that sets the records aside.
    let mut topics = topics;
    let mut dead_letter_topics = Vec::new();
    for topic in &topics {
        for group in &topic.consumer_groups {
            if let Some(name) = &group.dead_letter_topic {
                dead_letter_topics.push(Topic {
                    name: name.clone(),
                    design_topic: None,
                    partitions: 1,
                    partitions_note: None,
                    replication_factor,
                    configs: topic.configs.clone(),
                    producers: vec![group.group.clone()],
                    consumer_groups: Vec::new(),
                });
            }
        }
    }
    topics.extend(dead_letter_topics);
    // A suffixed name may sort before another topic's.
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    TopicsFile {
        broker: broker.id.to_string(),
        topics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert_eq!(kafka_topic_name("orders.placed"), "orders.placed");
        assert_eq!(kafka_topic_name("a b/c#d"), "a_b_c_d");
        assert_eq!(kafka_topic_name(".."), "__");
        assert_eq!(kafka_topic_name(&"x".repeat(300)).len(), MAX_TOPIC_LEN);
    }

    #[test]
    fn topics_that_clean_to_one_name_stay_apart() {
        let text = serde_json::json!({
            "type": "syncopate", "version": 1, "name": "k",
            "services": [{"id": "p"}, {"id": "log", "kind": "broker"}, {"id": "c", "concurrency": 1000, "replicas": 3}],
            "edges": [
                {"id": "e1", "from": "p", "to": "log", "mode": "async", "protocol": "kafka", "topic": "a b"},
                {"id": "e2", "from": "p", "to": "log", "mode": "async", "protocol": "kafka", "topic": "a_b"},
                {"id": "e3", "from": "log", "to": "c", "mode": "async", "protocol": "kafka"}
            ],
            "flows": [{"id": "f", "entry": "p", "rate_rps": 1}]
        });
        let design = crate::model::load_from_str(&text.to_string(), "k").unwrap();
        let broker = design.service("log").unwrap();
        let file = topics_file(&design, broker);
        let names: Vec<&str> = file.topics.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a_b", "a_b_2"]);
        assert_eq!(file.topics[0].partitions, MAX_PARTITIONS);
        assert!(file.topics[0].partitions_note.is_some());
        assert_eq!(
            file.topics[0].replication_factor, 1,
            "one broker replica, one copy"
        );
    }
}
