//! Reading a hash map of u64 counters, as hello-map prints it.

use anyhow::{Context, Result};
use libbpf_rs::{MapCore, MapFlags};

/// Every (key, count) pair of a map with u64 keys and u64 values, sorted by key.
pub fn read_counts(map: &dyn MapCore) -> Result<Vec<(u64, u64)>> {
    let mut counts = Vec::new();
    for key in map.keys() {
        let value = map
            .lookup(&key, MapFlags::ANY)
            .with_context(|| format!("reading {}", map.name().to_string_lossy()))?;
        if let (Ok(key), Some(Ok(value))) = (key[..].try_into(), value.map(|v| v[..].try_into())) {
            counts.push((u64::from_ne_bytes(key), u64::from_ne_bytes(value)));
        }
    }
    counts.sort();
    Ok(counts)
}

/// `ID 0: 3<TAB>ID 1000: 1`, as the book prints the counter table.
pub fn format_counts(counts: &[(u64, u64)]) -> String {
    if counts.is_empty() {
        return "(nothing counted yet)".into();
    }
    counts
        .iter()
        .map(|(id, n)| format!("ID {id}: {n}"))
        .collect::<Vec<_>>()
        .join("\t")
}

/// The inverse of `format_counts`: `ID 0: 3<TAB>ID 1000: 1` → `[(0, 3), (1000, 1)]`.
pub fn parse_counts(line: &str) -> Vec<(u64, u64)> {
    line.split('\t')
        .filter_map(|entry| {
            let (id, count) = entry.strip_prefix("ID ")?.split_once(": ")?;
            Some((id.parse().ok()?, count.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_the_books_shape() {
        let line = format_counts(&[(0, 3), (1000, 1)]);
        assert_eq!(line, "ID 0: 3\tID 1000: 1");
        assert_eq!(parse_counts(&line), vec![(0, 3), (1000, 1)]);
        assert_eq!(format_counts(&[]), "(nothing counted yet)");
    }
}
