//! Reading what libtest (the harness of Rust's test binaries) prints.

/// `ok. 12 passed; 0 failed; …` (a `test result:` line without its prefix) → the number
/// before `word`.
pub fn count_before(text: &str, word: &str) -> u64 {
    text.split(';')
        .find_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .strip_suffix(word.trim())
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_libtest_summaries() {
        let line =
            "ok. 12 passed; 3 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s";
        assert_eq!(super::count_before(line, " passed"), 12);
        assert_eq!(super::count_before(line, " failed"), 3);
        assert_eq!(
            super::count_before("FAILED. 1 passed; 2 failed;", " failed"),
            2
        );
    }
}
