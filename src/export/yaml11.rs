//! YAML that YAML 1.1 parsers read as the YAML 1.2 emitter meant it.
//!
//! serde_yaml_ng writes a string without quotes unless a YAML 1.2 parser would read it as something else (`true`,
//! `null`, `12`). Many consumers of our files parse YAML 1.1, where more plain words are not strings: PyYAML,
//! go-yaml v2 in kubectl's `sigs.k8s.io/yaml`, Envoy's loader. There `y`, `no`, `on` and `off` are booleans, `1_000`
//! and `1:20` are numbers, and `=` or `<<` have meanings of their own. A service called `no` became
//! `metadata.name: false` for kubectl, and a call called `y` a route named `true` for Envoy, which refused it.
//! This module quotes, in emitted text, every plain scalar a YAML 1.1 parser would not read as a string.

/// The plain scalars YAML 1.1 reads as booleans (YAML 1.2's `true`/`false` forms are already quoted).
const BOOLEANS: [&str; 16] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF",
];

/// Whether a YAML 1.1 parser (PyYAML's implicit resolvers) reads the plain scalar `s` as anything but a string.
fn not_a_string_in_yaml_1_1(s: &str) -> bool {
    // Most scalars are names: only these first characters can begin a word or number YAML 1.1 reads otherwise,
    // and its words are at most 4 letters long.
    match s.as_bytes().first() {
        Some(b'y' | b'Y' | b'n' | b'N' | b'o' | b'O') if s.len() <= 4 => {}
        Some(b'=' | b'<' | b'~' | b'0'..=b'9' | b'+' | b'-' | b'.') => {}
        _ => return false,
    }
    if BOOLEANS.contains(&s) || matches!(s, "=" | "<<" | "~" | "null" | "Null" | "NULL") {
        return true;
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    // Infinity takes a sign; not-a-number does not.
    is_int(unsigned)
        || is_float(unsigned)
        || matches!(unsigned, ".inf" | ".Inf" | ".INF")
        || matches!(s, ".nan" | ".NaN" | ".NAN")
}

/// YAML 1.1 integers, without a sign: binary, octal, decimal with `_`, hexadecimal, and base 60 (`1:20`).
fn is_int(s: &str) -> bool {
    let digits =
        |t: &str, ok: fn(char) -> bool| !t.is_empty() && t.chars().all(|c| ok(c) || c == '_');
    if let Some(rest) = s.strip_prefix("0b") {
        return digits(rest, |c| matches!(c, '0' | '1'));
    }
    if let Some(rest) = s.strip_prefix("0x") {
        return digits(rest, |c| c.is_ascii_hexdigit());
    }
    if s == "0" {
        return true;
    }
    if let Some(rest) = s.strip_prefix('0') {
        return digits(rest, |c| matches!(c, '0'..='7'));
    }
    is_base_60(s, false)
}

/// `[1-9][0-9_]*` followed, when `parts_required`, by at least one `:[0-5]?[0-9]`, else by any number of them.
fn is_base_60(s: &str, parts_required: bool) -> bool {
    let mut parts = s.split(':');
    let Some(head) = parts.next() else {
        return false;
    };
    let head_ok = head.starts_with(|c: char| matches!(c, '1'..='9'))
        && head.chars().all(|c| c.is_ascii_digit() || c == '_');
    let mut count = 0;
    for part in parts {
        count += 1;
        let ok = match part.as_bytes() {
            [d] => d.is_ascii_digit(),
            [a, b] => matches!(a, b'0'..=b'5') && b.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    head_ok && (count > 0 || !parts_required)
}

/// YAML 1.1 floats, without a sign: `1.5`, `1.`, `1_0.5e+3`, `.5`, and base 60 with a fraction (`1:20.5`).
fn is_float(s: &str) -> bool {
    let Some((whole, fraction)) = s.split_once('.') else {
        return false;
    };
    let digits_ = |t: &str| t.chars().all(|c| c.is_ascii_digit() || c == '_');
    // The fraction, with an optional exponent `[eE][-+][0-9]+`.
    let fraction_ok = |t: &str| match t.find(['e', 'E']) {
        None => digits_(t),
        Some(at) => {
            let (digits, exponent) = (&t[..at], &t[at + 1..]);
            digits_(digits)
                && exponent
                    .strip_prefix(['-', '+'])
                    .is_some_and(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_digit()))
        }
    };
    if whole.is_empty() {
        // `.5`: at least one digit or `_` after the point.
        return !fraction.is_empty() && fraction_ok(fraction) && !fraction.starts_with(['e', 'E']);
    }
    if whole.contains(':') {
        return is_base_60(whole, true) && digits_(fraction);
    }
    whole.starts_with(|c: char| c.is_ascii_digit()) && digits_(whole) && fraction_ok(fraction)
}

/// Where a scalar that starts at `text[0]` ends (exclusive), for a quoted one; `None` for a plain one.
fn quoted_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    match bytes.first()? {
        b'\'' => {
            let mut i = 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return Some(i + 1);
                }
                i += 1;
            }
            Some(bytes.len())
        }
        b'"' => {
            let mut i = 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => return Some(i + 1),
                    _ => i += 1,
                }
            }
            Some(bytes.len())
        }
        _ => None,
    }
}

/// Whether the emitter wrote `plain` as a string: a plain scalar YAML 1.2 reads as a number, boolean or null was
/// written as one (a string that looks like one is quoted by the emitter), and stays as it is.
fn a_string_in_yaml_1_2(plain: &str) -> bool {
    matches!(
        serde_yaml_ng::from_str::<serde_yaml_ng::Value>(plain),
        Ok(serde_yaml_ng::Value::String(_))
    )
}

/// Whether a plain scalar must be quoted for YAML 1.1 readers to read the string that was written.
fn needs_quotes(plain: &str) -> bool {
    // The YAML 1.2 reading only for the few scalars YAML 1.1 reads otherwise (it costs a parse).
    not_a_string_in_yaml_1_1(plain) && a_string_in_yaml_1_2(plain)
}

/// Quotes every plain scalar of a block-style YAML text (as serde_yaml_ng emits it: no line folding, multi-line
/// strings as literal blocks) that a YAML 1.1 parser would not read as a string. Keys, values and sequence items
/// alike; the lines of literal blocks and comments are left as they are. Exports are megabytes of YAML, so lines
/// are only looked at, and the text is copied once, with quotes around the few scalars that need them.
pub fn quote_for_yaml_1_1(text: &str) -> String {
    // Byte ranges of the plain scalars to quote.
    let mut to_quote: Vec<(usize, usize)> = Vec::new();
    // The column of the node that owns a literal block: lines indented deeper belong to the block.
    let mut block_owner_indent: Option<usize> = None;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let at = line_start;
        line_start += line.len();
        let body = line.strip_suffix('\n').unwrap_or(line);
        let indent = body.len() - body.trim_start_matches(' ').len();
        if let Some(owner) = block_owner_indent {
            if body.trim().is_empty() || indent > owner {
                continue;
            }
            block_owner_indent = None;
        }
        let mut rest = &body[indent..];
        if rest.starts_with('#') || rest.starts_with("---") || rest.starts_with("...") {
            continue;
        }
        let mut dashes = 0;
        while let Some(after) = rest.strip_prefix("- ") {
            rest = after;
            dashes += 1;
        }
        // Where `rest` starts in the text.
        let rest_at = at + body.len() - rest.len();
        // A key, if the line has one: a quoted scalar followed by `:`, or a plain one up to `: ` or a final `:`.
        let key_quoted = quoted_end(rest);
        let key_end = match key_quoted {
            Some(end) => rest[end..]
                .starts_with(':')
                .then_some(end)
                .filter(|&e| rest[e + 1..].is_empty() || rest[e + 1..].starts_with(' ')),
            None => rest
                .find(": ")
                .or_else(|| rest.strip_suffix(':').map(str::len)),
        };
        let (value, value_at) = match key_end {
            Some(end) => {
                if key_quoted.is_none() && needs_quotes(&rest[..end]) {
                    to_quote.push((rest_at, rest_at + end));
                }
                let after = rest[end + 1..]
                    .strip_prefix(' ')
                    .unwrap_or(&rest[end + 1..]);
                (after, rest_at + rest.len() - after.len())
            }
            None => (rest, rest_at),
        };
        if value.starts_with(['|', '>']) {
            // A literal or folded block: its lines follow, indented deeper than the node that owns it (the key's
            // column, or the column of the item's dash).
            block_owner_indent = Some(match key_end {
                Some(_) => indent + 2 * dashes,
                None => indent + 2 * dashes.max(1) - 2,
            });
        } else if !(value.is_empty()
            || value == "-"
            || quoted_end(value).is_some()
            || matches!(value, "[]" | "{}")
            || value.starts_with(['&', '*', '!']))
            && needs_quotes(value)
        {
            to_quote.push((value_at, value_at + value.len()));
        }
    }
    if to_quote.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 2 * to_quote.len());
    let mut copied = 0;
    for (start, end) in to_quote {
        out.push_str(&text[copied..start]);
        out.push('\'');
        out.push_str(&text[start..end]);
        out.push('\'');
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_numbers_yaml_1_1_reads_otherwise_are_quoted() {
        for s in [
            "y", "NO", "on", "Off", "=", "<<", "1_000", "1:20", "0b101", "0x_1F", "017",
            "1_0.5e+3", ".5", "1:20.5", "-.inf", ".NaN", "+12", "1.",
        ] {
            assert!(not_a_string_in_yaml_1_1(s), "{s}");
        }
        for s in [
            "yes-no",
            "order-api",
            "1.0.0",
            "v1",
            "1:60",
            "0:20",
            "09",
            "3.11-management",
            "e1",
            ".",
            "1e3x",
            "_1",
        ] {
            assert!(!not_a_string_in_yaml_1_1(s), "{s}");
        }
    }

    #[test]
    fn keys_values_and_items_are_quoted_but_blocks_and_quoted_scalars_are_kept() {
        let text = "\
no:
  name: y
  ports:
  - on
  - - 1:20
  - key: '='
    plain: order-api
  note: |-
    on
    - no
  'quoted': off
after: 1_000
count: 1
ratio: 0.5
none: null
# a comment: no
";
        assert_eq!(
            quote_for_yaml_1_1(text),
            "\
'no':
  name: 'y'
  ports:
  - 'on'
  - - '1:20'
  - key: '='
    plain: order-api
  note: |-
    on
    - no
  'quoted': 'off'
after: '1_000'
count: 1
ratio: 0.5
none: null
# a comment: no
"
        );
    }

    #[test]
    fn what_serde_yaml_writes_reads_back_the_same_after_quoting() {
        let value = serde_json::json!({
            "no": ["y", "on", "1:20", "order-api", "a\nb\n- no", [{"note": "x\nno", "off": "y"}]],
            "x": {"<<": "=", "count": 1, "ratio": 0.5, "flag": true, "none": null, "text": "1"},
        });
        let text = quote_for_yaml_1_1(&serde_yaml_ng::to_string(&value).unwrap());
        let back: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
        assert_eq!(back, value, "{text}");
    }
}
