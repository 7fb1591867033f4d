//! "Did you mean …?" suggestions.

/// Lowercases and drops `_`, `-` and `.`, so `runtime_version` matches `runtimeVersion`.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The candidate closest to `input`, if one is close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let folded = fold(input);
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        let fc = fold(cand);
        if fc == folded {
            return Some(cand);
        }
        let dist = strsim::damerau_levenshtein(&folded, &fc);
        let limit = (folded.chars().count().max(fc.chars().count()) / 4).max(1);
        if dist <= limit && best.is_none_or(|(d, _)| dist < d) {
            best = Some((dist, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// Renders `a`, `b`, `c` as "`a`, `b`, `c`".
pub fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests() {
        let fields = ["id", "name", "version", "runtimeVersion", "entry"];
        assert_eq!(did_you_mean("nmae", fields), Some("name"));
        assert_eq!(
            did_you_mean("runtime_version", fields),
            Some("runtimeVersion")
        );
        assert_eq!(did_you_mean("verison", fields), Some("version"));
        assert_eq!(did_you_mean("zzzzzz", fields), None);
        assert_eq!(
            did_you_mean("wasi", ["wasm", "container", "function"]),
            Some("wasm")
        );
        assert_eq!(list(&["a", "b"]), "`a`, `b`");
    }
}
