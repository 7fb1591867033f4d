//! Kubernetes names and labels: the object name of an instance, label values and keys made
//! from free text, and the grammar checks behind them.
//!
//! ```text
//! DNS-1123 label      = 1*63( lower / digit / "-" ), starting and ending with lower / digit
//! DNS-1123 subdomain  = 1*253, DNS-1123 labels joined by "."
//! label value         = 0*63( alpha / digit / "-" / "_" / "." ), starting and ending with
//!                       alpha / digit when not empty
//! ```

/// Longest DNS-1123 label (and label value, and label key name part).
pub const MAX_LABEL: usize = 63;
/// Longest DNS-1123 subdomain.
pub const MAX_SUBDOMAIN: usize = 253;
/// Longest instance part of an object name before it is cut and hashed.
const MAX_INSTANCE_PART: usize = 40;

/// Whether `s` is a DNS-1123 label (namespace names, slugs, object names).
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LABEL
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Whether `s` is a DNS-1123 subdomain (Secret and ServiceAccount names).
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_SUBDOMAIN && s.split('.').all(is_dns1123_label)
}

/// Whether `s` is a valid label value (the empty string is one).
pub fn is_label_value(s: &str) -> bool {
    s.len() <= MAX_LABEL
        && s.bytes().all(is_label_byte)
        && s.bytes().next().is_none_or(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_none_or(|b| b.is_ascii_alphanumeric())
}

fn is_label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// Makes a valid label value of free text: every run of characters a label value cannot hold
/// becomes one `-`, the ends are trimmed to letters and digits, and the result is cut to 63
/// characters. Deterministic; lossy (keep the original elsewhere); may return `""`.
///
/// `"R&D / Paris"` → `"R-D-Paris"`, `"  ¡hola!  "` → `"hola"`.
pub fn sanitise_label_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut replacing = false;
    for c in s.chars() {
        if c.is_ascii() && is_label_byte(c as u8) {
            out.push(c);
            replacing = false;
        } else if !replacing {
            out.push('-');
            replacing = true;
        }
    }
    trim_to_alnum(&out, MAX_LABEL).to_owned()
}

/// `s` cut to at most `max` bytes (all ASCII) and trimmed to start and end with an ASCII letter
/// or digit.
fn trim_to_alnum(s: &str, max: usize) -> &str {
    let s = s.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let s = &s[..s.len().min(max)];
    s.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
}

/// A short, stable hash of `s`: 8 lowercase hex digits of 32-bit FNV-1a. Used only to keep
/// shortened names apart, never for security.
pub fn short_hash(s: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

/// The name of every object of an instance: a DNS-1123 label of at most 63 characters,
/// `<app>-<instance>`, where `<app>` is the last part of the app id and `<instance>` the
/// instance id lowercased with every other character (`_`, `.`) turned into `-`.
///
/// Unique per instance: when turning the id into `<instance>` loses anything (upper case, `_`,
/// `.`) or it has to be cut, a hash of the exact id is appended, so ids that differ only there
/// still get different names. `<app>` is cut first when the name is too long.
///
/// `("com.example.where2eat", "inst-9a3f")` → `"where2eat-inst-9a3f"`.
pub fn object_name(app_id: &str, instance_id: &str) -> String {
    let mut inst: String = instance_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let lossless = inst == instance_id;
    if !lossless || inst.len() > MAX_INSTANCE_PART {
        let keep = trim_to_alnum(&inst, MAX_INSTANCE_PART - 9).to_owned();
        let hash = short_hash(instance_id);
        inst = if keep.is_empty() {
            hash
        } else {
            format!("{keep}-{hash}")
        };
    }
    let app_last = app_id.rsplit('.').next().unwrap_or(app_id);
    let app: String = app_last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let app = trim_to_alnum(&app, MAX_LABEL - 1 - inst.len());
    let app = if app.is_empty() { "app" } else { app };
    format!("{app}-{inst}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_short_dns_labels_and_keep_clean_ids_readable() {
        assert_eq!(
            object_name("com.example.where2eat", "inst-9a3f"),
            "where2eat-inst-9a3f"
        );
        let n = object_name("com.example.where2eat", "inst_0190a1b2c3d4");
        assert!(n.starts_with("where2eat-inst-0190a1b2c3d4-"), "{n}");
        assert!(is_dns1123_label(&n), "{n}");
        // Deterministic.
        assert_eq!(n, object_name("com.example.where2eat", "inst_0190a1b2c3d4"));
    }

    #[test]
    fn object_names_differ_when_ids_differ_only_in_what_sanitising_drops() {
        let a = object_name("com.example.x", "inst_a");
        let b = object_name("com.example.x", "inst-a");
        let c = object_name("com.example.x", "Inst-A");
        assert_eq!(b, "x-inst-a");
        assert_ne!(a, b);
        assert_ne!(c, b);
        assert_ne!(a, c);
    }

    #[test]
    fn long_app_and_instance_ids_are_cut_to_63() {
        let app = format!("com.example.{}", "a".repeat(80));
        let inst = format!("inst-{}", "0".repeat(58));
        let n = object_name(&app, &inst);
        assert!(n.len() <= 63, "{} chars: {n}", n.len());
        assert!(is_dns1123_label(&n), "{n}");
        let other = object_name(&app, &format!("inst-{}1", "0".repeat(57)));
        assert_ne!(n, other, "cut ids must still differ");
        // An app part that is all punctuation falls back to `app`.
        assert_eq!(object_name("com.example.-", "i1"), "app-i1");
    }

    #[test]
    fn label_values_are_sanitised_to_the_grammar() {
        for (input, want) in [
            ("payments", "payments"),
            ("R&D / Paris", "R-D-Paris"),
            ("  ¡hola!  ", "hola"),
            ("1.2.0+build.5", "1.2.0-build.5"),
            ("-_.x._-", "x"),
            ("€€€", ""),
            ("", ""),
            ("café", "caf"),
        ] {
            let got = sanitise_label_value(input);
            assert_eq!(got, want, "{input:?}");
            assert!(is_label_value(&got), "{got:?}");
        }
        let long = sanitise_label_value(&format!("{}-{}", "a".repeat(62), "b".repeat(10)));
        assert_eq!(long, "a".repeat(62), "cut at 63 and trimmed of the `-`");
    }

    #[test]
    fn grammar_checks() {
        assert!(is_dns1123_label("plaza-payments"));
        assert!(!is_dns1123_label("Plaza"));
        assert!(!is_dns1123_label("-a"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(is_dns1123_subdomain("a.b-c"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(is_label_value(""));
        assert!(is_label_value("inst_0190.A"));
        assert!(!is_label_value("_x"));
        assert!(!is_label_value("a b"));
    }

    #[test]
    fn short_hash_is_stable() {
        assert_eq!(short_hash(""), "811c9dc5");
        assert_eq!(short_hash("a"), "e40c292c");
    }
}
