//! Unique object keys for result columns and row fields.
//!
//! Trino allows duplicate and empty column names (`SELECT 1, 1 AS a, 2 AS a`); as object keys
//! they would collapse, so each gets a key of its own while names stay untouched elsewhere.

use std::collections::HashSet;

/// One key per name, in order: an empty name becomes `_col{i}` (0-based position, as Trino
/// names unnamed columns), a repeated name becomes `name_2`, `name_3`... The first occurrence
/// keeps its name, and no generated key collides with any name in the list.
pub fn unique_keys<S: AsRef<str>>(names: &[S]) -> Vec<String> {
    // Every name as given is reserved, so `a, a, a_2` yields `a, a_3, a_2`.
    let reserved: HashSet<&str> = names.iter().map(AsRef::as_ref).collect();
    let mut used: HashSet<String> = HashSet::with_capacity(names.len());
    let mut keys = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let name = name.as_ref();
        let key = if name.is_empty() {
            let base = format!("_col{i}");
            if reserved.contains(base.as_str()) || used.contains(&base) {
                next_free(&base, &reserved, &used)
            } else {
                base
            }
        } else if used.contains(name) {
            next_free(name, &reserved, &used)
        } else {
            name.to_string()
        };
        used.insert(key.clone());
        keys.push(key);
    }
    keys
}

fn next_free(base: &str, reserved: &HashSet<&str>, used: &HashSet<String>) -> String {
    // Terminates: each candidate is distinct and only finitely many keys are taken.
    let mut n: u64 = 2;
    loop {
        let candidate = format!("{base}_{n}");
        if !reserved.contains(candidate.as_str()) && !used.contains(&candidate) {
            return candidate;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::unique_keys;

    #[test]
    fn distinct_names_are_kept() {
        assert_eq!(unique_keys(&["id", "name"]), ["id", "name"]);
    }

    #[test]
    fn duplicates_get_numbered_suffixes() {
        assert_eq!(unique_keys(&["a", "a", "a"]), ["a", "a_2", "a_3"]);
    }

    #[test]
    fn generated_keys_never_collide_with_given_names() {
        assert_eq!(unique_keys(&["a", "a", "a_2"]), ["a", "a_3", "a_2"]);
        assert_eq!(unique_keys(&["a_2", "a", "a"]), ["a_2", "a", "a_3"]);
    }

    #[test]
    fn empty_names_use_their_position() {
        assert_eq!(unique_keys(&["", "x", ""]), ["_col0", "x", "_col2"]);
        assert_eq!(unique_keys(&["_col1", ""]), ["_col1", "_col1_2"]);
        assert_eq!(unique_keys(&["", "_col0"]), ["_col0_2", "_col0"]);
    }

    #[test]
    fn names_are_case_sensitive() {
        assert_eq!(unique_keys(&["A", "a"]), ["A", "a"]);
    }
}
