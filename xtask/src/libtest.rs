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

/// Every `test NAME ... ok` or `... FAILED` line: each test's name and whether it passed.
/// Ignored tests are left out.
pub fn outcomes(log: &str) -> Vec<(String, bool)> {
    log.lines()
        .filter_map(|line| {
            let (name, result) = line.strip_prefix("test ")?.rsplit_once(" ... ")?;
            match result.trim() {
                "ok" => Some((name.to_string(), true)),
                "FAILED" => Some((name.to_string(), false)),
                _ => None,
            }
        })
        .collect()
}

/// The outcome of an example's tests among `outcomes`: `None` when none of its tests ran,
/// else whether they all passed.
pub fn example_outcome(outcomes: &[(String, bool)], prefix: &str) -> Option<bool> {
    let mine: Vec<bool> = outcomes
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(_, passed)| *passed)
        .collect();
    (!mine.is_empty()).then(|| mine.iter().all(|p| *p))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_each_tests_outcome_and_groups_them_by_example() {
        let log = "running 3 tests\n\
                   test hello_map::counts ... ok\n\
                   test hello_map::stops ... FAILED\n\
                   test hello::prints ... ok\n\
                   test slow ... ignored\n\
                   test result: FAILED. 2 passed; 1 failed";
        let outcomes = super::outcomes(log);
        assert_eq!(outcomes.len(), 3);
        assert_eq!(
            super::example_outcome(&outcomes, "hello_map::"),
            Some(false)
        );
        assert_eq!(super::example_outcome(&outcomes, "hello::"), Some(true));
        assert_eq!(super::example_outcome(&outcomes, "hello_tail::"), None);
    }

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
