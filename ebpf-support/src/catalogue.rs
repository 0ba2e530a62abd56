//! Finding every example of every chapter without naming any: the chapter packages are the
//! workspace's `chapterNN/` folders, their examples are their binaries, and each binary
//! describes itself (`--describe`, see `needs::Example::describe`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::needs::Example;

/// The repository's root: the first folder from `start` up whose Cargo.toml is a workspace
/// and that holds `xtask/` (the exercises' and solutions' own workspaces do not).
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| {
            let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
            manifest.lines().any(|line| line.trim() == "[workspace]")
                && dir.join("exercises").is_dir()
                && dir.join("xtask").is_dir()
        })
        .map(Path::to_path_buf)
}

/// The chapter packages under `root`, in order: `chapter02`, `chapter03`, …
pub fn chapters(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.strip_prefix("chapter")
                .is_some_and(|n| n.len() == 2 && n.chars().all(|c| c.is_ascii_digit()))
                && root.join(name).join("Cargo.toml").is_file()
        })
        .collect();
    names.sort();
    names
}

/// The binaries of one chapter package: its `src/bin/*.rs`.
pub fn binaries(root: &Path, chapter: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join(chapter).join("src/bin"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".rs").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// Every example, in chapter order, described by its own binary in `bin_dir` (where cargo
/// put them: `target/debug`). A binary that is missing or describes nothing is an error: the
/// catalogue must not quietly shrink.
pub fn examples(root: &Path, bin_dir: &Path) -> Result<Vec<Example>, String> {
    let mut examples = Vec::new();
    for chapter in chapters(root) {
        for binary in binaries(root, &chapter) {
            let path = bin_dir.join(&binary);
            let output = Command::new(&path)
                .arg("--describe")
                .output()
                .map_err(|e| format!("{}: {e} (build the workspace first)", path.display()))?;
            let text = String::from_utf8_lossy(&output.stdout);
            let example = Example::parse(&text)
                .filter(|_| output.status.success())
                .ok_or_else(|| format!("{} --describe printed no description", path.display()))?;
            if example.package != chapter || example.name != binary {
                return Err(format!(
                    "{} describes itself as {} {}: each binary must use its own description",
                    path.display(),
                    example.package,
                    example.name
                ));
            }
            examples.push(example);
        }
    }
    Ok(examples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_repository_from_any_folder_inside_it() {
        let top = std::env::temp_dir().join(format!("xtask-root-{}", std::process::id()));
        let repo = top.join("copy");
        for dir in [
            "xtask/src",
            "exercises/ch02-1-odd-even/src",
            "chapter02/src",
        ] {
            std::fs::create_dir_all(repo.join(dir)).unwrap();
        }
        std::fs::write(repo.join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
        // The exercises are a workspace of their own, which the search must walk past.
        std::fs::write(repo.join("exercises/Cargo.toml"), "[workspace]\n").unwrap();
        std::fs::write(
            repo.join("exercises/ch02-1-odd-even/Cargo.toml"),
            "[package]\n",
        )
        .unwrap();
        // A package folder of the right shape that is not a workspace is no root either.
        std::fs::create_dir_all(top.join("not-a-workspace/exercises")).unwrap();
        std::fs::create_dir_all(top.join("not-a-workspace/xtask")).unwrap();
        std::fs::write(top.join("not-a-workspace/Cargo.toml"), "[package]\n").unwrap();

        for start in [
            repo.clone(),
            repo.join("exercises"),
            repo.join("exercises/ch02-1-odd-even/src"),
            repo.join("chapter02/src"),
            repo.join("xtask"),
        ] {
            assert_eq!(
                find_root(&start),
                Some(repo.clone()),
                "from {}",
                start.display()
            );
        }
        assert_eq!(find_root(&top.join("not-a-workspace")), None);
        assert_eq!(find_root(&top), None);
        std::fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn chapters_are_the_chapter_folders() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let chapters = chapters(root);
        assert_eq!(chapters.first().map(String::as_str), Some("chapter02"));
        assert!(binaries(root, "chapter02").contains(&"hello-map".to_string()));
    }
}
