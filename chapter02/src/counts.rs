//! The counter table as hello-map prints it: `ID 0: 3<TAB>ID 1000: 1`.

use std::collections::BTreeMap;

/// `ID 0: 3<TAB>ID 1000: 1`, as the book prints the counter table, in key order.
pub fn format_counts(counts: &BTreeMap<u64, u64>) -> String {
    if counts.is_empty() {
        return "(nothing counted yet)".into();
    }
    counts
        .iter()
        .map(|(id, n)| format!("ID {id}: {n}"))
        .collect::<Vec<_>>()
        .join("\t")
}

/// The inverse of `format_counts`: `ID 0: 3<TAB>ID 1000: 1` → `{0: 3, 1000: 1}`.
pub fn parse_counts(line: &str) -> BTreeMap<u64, u64> {
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
        let counts = BTreeMap::from([(1000, 1), (0, 3)]);
        let line = format_counts(&counts);
        assert_eq!(line, "ID 0: 3\tID 1000: 1");
        assert_eq!(parse_counts(&line), counts);
        assert_eq!(format_counts(&BTreeMap::new()), "(nothing counted yet)");
    }
}
