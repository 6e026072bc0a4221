//! Service names that read at every zoom: a prefix every name shares (TrainTicket's `ts-`) is dropped and said once
//! on the canvas, and a name too long for its room loses its middle, not its end, so `admin-…-service` and
//! `order-…-service` stay apart (cutting the end kept only the part they share).

/// The prefix every one of `names` starts with, ending at a separator (`-`, `_`, `.`, `/`, `:` or a space), when
/// there are at least three names and every name keeps at least three characters without it.
pub fn common_prefix<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let names: Vec<&str> = names.into_iter().collect();
    if names.len() < 3 {
        return None;
    }
    let first = names[0];
    let mut shared = first.len();
    for name in &names[1..] {
        shared = shared.min(
            first
                .char_indices()
                .zip(name.chars())
                .find(|((_, a), b)| a != b)
                .map_or(first.len().min(name.len()), |((at, _), _)| at),
        );
    }
    // Back to the last separator within the shared part (inclusive), so no word is cut.
    let prefix = &first[..shared];
    let end = prefix
        .char_indices()
        .filter(|(_, c)| matches!(c, '-' | '_' | '.' | '/' | ':' | ' '))
        .map(|(at, c)| at + c.len_utf8())
        .next_back()?;
    let prefix = &first[..end];
    let all_keep_enough = names.iter().all(|name| name[end..].chars().count() >= 3);
    (end >= 2 && all_keep_enough).then(|| prefix.to_owned())
}

/// The last word (with the separator before it, as `-service`) at least half of `names` end with, when there are at
/// least three of them and each keeps at least three characters without it: said once like the prefix, so
/// `ts-order-service` reads `order` beside `order-mongo`.
pub fn frequent_suffix<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let names: Vec<&str> = names.into_iter().collect();
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for name in &names {
        if let Some(at) = name.rfind(['-', '_', '.', ' '])
            && name[..at].chars().count() >= 3
        {
            *counts.entry(&name[at..]).or_default() += 1;
        }
    }
    let (suffix, count) = counts
        .into_iter()
        .max_by_key(|(suffix, count)| (*count, std::cmp::Reverse(*suffix)))?;
    (count >= 3 && count * 2 >= names.len() && suffix.chars().count() >= 3)
        .then(|| suffix.to_owned())
}

/// `name` without the prefix and suffix the canvas leaves off (each only when it has them).
pub fn shortened<'a>(name: &'a str, prefix: Option<&str>, suffix: Option<&str>) -> &'a str {
    let name = prefix.and_then(|p| name.strip_prefix(p)).unwrap_or(name);
    let short = suffix.and_then(|s| name.strip_suffix(s)).unwrap_or(name);
    if short.chars().count() >= 3 {
        short
    } else {
        name
    }
}

/// `text` as it fits in `max_width` by `measure` (the width of a string as drawn): whole, or its start and end
/// around an ellipsis, the start getting the larger half. Never empty: at worst the first character and "…".
pub fn middle_ellipsis(text: &str, max_width: f32, mut measure: impl FnMut(&str) -> f32) -> String {
    if measure(text) <= max_width {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    // Fewer kept characters until it fits: names are short, so a linear search costs little.
    for keep in (1..chars.len()).rev() {
        // Two thirds to the start: names differ more at their start than at their end.
        let tail = keep / 3;
        let head = keep - tail;
        let candidate: String = chars[..head]
            .iter()
            .chain(std::iter::once(&'…'))
            .chain(&chars[chars.len() - tail..])
            .collect();
        if measure(&candidate) <= max_width || keep == 1 {
            return candidate;
        }
    }
    text.chars().take(1).chain(std::iter::once('…')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_shared_by_every_name_is_found_up_to_a_separator() {
        let names = [
            "ts-order-service",
            "ts-admin-order-service",
            "ts-ui-dashboard",
        ];
        assert_eq!(common_prefix(names).as_deref(), Some("ts-"));
        // Shared letters past the separator are not cut: "ts-or" would split a word.
        let names = ["ts-order-service", "ts-order-other-service", "ts-orders"];
        assert_eq!(common_prefix(names).as_deref(), Some("ts-"));
        assert_eq!(common_prefix(["web", "api", "db"]), None);
        assert_eq!(
            common_prefix(["ts-a", "ts-b"]),
            None,
            "two names are not a pattern"
        );
        assert_eq!(
            common_prefix(["svc-a", "svc-bcd", "svc-cde"]),
            None,
            "a name would keep one letter"
        );
    }

    #[test]
    fn a_suffix_most_names_end_with_is_left_off_too() {
        let names = [
            "ts-order-service",
            "ts-admin-order-service",
            "ts-order-mongo",
            "ts-ui-dashboard",
            "ts-auth-service",
        ];
        let prefix = common_prefix(names);
        let suffix = frequent_suffix(names);
        assert_eq!(suffix.as_deref(), Some("-service"));
        let short: Vec<&str> = names
            .iter()
            .map(|n| shortened(n, prefix.as_deref(), suffix.as_deref()))
            .collect();
        assert_eq!(
            short,
            [
                "order",
                "admin-order",
                "order-mongo",
                "ui-dashboard",
                "auth"
            ]
        );
        assert_eq!(frequent_suffix(["a-x", "b-y", "c-z"]), None);
        assert_eq!(
            shortened("ts-ab-service", Some("ts-"), Some("-service")),
            "ab-service"
        );
    }

    #[test]
    fn a_long_name_keeps_its_start_and_end() {
        let measure = |s: &str| s.chars().count() as f32 * 6.0;
        assert_eq!(
            middle_ellipsis("order-service", 100.0, measure),
            "order-service"
        );
        let cut = middle_ellipsis("admin-basic-info-service", 60.0, measure);
        assert_eq!(cut, "admin-…ice");
        assert!(measure(&cut) <= 60.0);
        // Two names that share their start stay apart.
        assert_ne!(
            middle_ellipsis("admin-order-service", 90.0, measure),
            middle_ellipsis("admin-route-service", 90.0, measure)
        );
        assert_eq!(middle_ellipsis("abcdef", 1.0, measure), "a…");
    }
}
