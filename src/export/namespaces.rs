//! Kubernetes namespaces from the design's groups. A design without groups is exported as before, with no
//! namespace named (the objects land wherever they are applied). A design with groups puts each group's services
//! in a namespace of their own, named after the group, and every other deployed service in `default`, so that a
//! call between namespaces can name its callee by its cluster DNS name.

use std::collections::BTreeMap;

use super::is_deployed;
use crate::model::Design;
use crate::model::ids::dns_label_chars;

/// The namespace of services outside any group, when the design has groups.
pub(crate) const UNGROUPED_NAMESPACE: &str = "default";

/// Each deployed service's namespace, and each group's.
#[derive(Debug, Default)]
pub(crate) struct Namespaces {
    by_service: BTreeMap<String, String>,
    by_group: BTreeMap<String, String>,
}

impl Namespaces {
    /// The namespaces of a design's services; empty when no deployed service has a group.
    pub(crate) fn of(design: &Design) -> Self {
        if !design
            .services
            .iter()
            .any(|s| is_deployed(s) && s.group.is_some())
        {
            return Self::default();
        }
        let mut by_group = BTreeMap::new();
        let mut taken: Vec<String> = vec![UNGROUPED_NAMESPACE.to_owned()];
        for group in design.groups() {
            let base = namespace_name(group);
            // Groups whose names clean to one namespace stay apart: "-2", "-3", ... after the first (sorted).
            let name = (1..)
                .map(|n| {
                    if n == 1 {
                        base.clone()
                    } else {
                        let suffix = format!("-{n}");
                        format!("{}{suffix}", trim_to(&base, 63 - suffix.len()))
                    }
                })
                .find(|candidate| {
                    // A group called "default" is the default namespace.
                    !taken.contains(candidate)
                        || (group == UNGROUPED_NAMESPACE && candidate == group)
                })
                .unwrap_or(base);
            taken.push(name.clone());
            by_group.insert(group.to_owned(), name);
        }
        let by_service = design
            .services
            .iter()
            .map(|s| {
                let namespace = s
                    .group
                    .as_ref()
                    .and_then(|g| by_group.get(g))
                    .map_or(UNGROUPED_NAMESPACE, String::as_str);
                (s.id.to_string(), namespace.to_owned())
            })
            .collect();
        Self {
            by_service,
            by_group,
        }
    }

    /// The namespace a service is deployed in; `None` when the design has no groups.
    pub(crate) fn of_service(&self, id: &str) -> Option<String> {
        self.by_service.get(id).cloned()
    }

    /// The name a service in `from`'s namespace reaches `to` by: its id in the same namespace (or without
    /// groups), else its cluster DNS name.
    pub(crate) fn host(&self, from: &str, to: &str) -> String {
        match (self.by_service.get(from), self.by_service.get(to)) {
            (Some(a), Some(b)) if a != b => format!("{to}.{b}.svc.cluster.local"),
            _ => to.to_owned(),
        }
    }

    /// Each group's namespace (`default` left out: it exists already), by group.
    pub(crate) fn groups(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_group
            .iter()
            .filter(|(_, namespace)| namespace.as_str() != UNGROUPED_NAMESPACE)
            .map(|(group, namespace)| (group.as_str(), namespace.as_str()))
    }
}

/// A group's name made a namespace name (a DNS label, as [`dns_label_chars`] makes it), at most 63 characters;
/// `group` when nothing is left; a `kube-` prefix (Kubernetes' own) led by `g-`.
fn namespace_name(group: &str) -> String {
    let mut name = dns_label_chars(group);
    if name.is_empty() {
        name = "group".to_owned();
    }
    if name.starts_with("kube-") {
        name.insert_str(0, "g-");
    }
    trim_to(&name, 63)
}

/// At most `max` characters (ASCII here), with no `-` left at the end.
fn trim_to(name: &str, max: usize) -> String {
    name.chars()
        .take(max)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Service;

    #[test]
    fn group_names_become_distinct_dns_labels() {
        assert_eq!(namespace_name("Payments & Billing"), "payments-billing");
        assert_eq!(namespace_name("kube-system"), "g-kube-system");
        assert_eq!(namespace_name("日本"), "group");
        assert_eq!(namespace_name(&"x".repeat(100)).len(), 63);
        let mut design = Design::new("t");
        for (id, group) in [("a", "Payments"), ("b", "payments"), ("c", "")] {
            let mut service = Service::new(id);
            service.group = (!group.is_empty()).then(|| group.to_owned());
            design.services.push(service);
        }
        let namespaces = Namespaces::of(&design);
        assert_eq!(namespaces.of_service("a").as_deref(), Some("payments"));
        assert_eq!(namespaces.of_service("b").as_deref(), Some("payments-2"));
        assert_eq!(namespaces.of_service("c").as_deref(), Some("default"));
        assert_eq!(namespaces.host("a", "b"), "b.payments-2.svc.cluster.local");
        assert_eq!(namespaces.host("b", "b"), "b");
        assert!(
            Namespaces::of(&Design::new("none"))
                .of_service("a")
                .is_none()
        );
    }
}
