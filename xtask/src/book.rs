//! The mdBook in book/. mdbook only warns about an `{{#include}}` it cannot resolve, so every
//! include is checked here first and a broken one fails the build. The pictures of the network
//! lab are drawn here from the lab's own topologies.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

pub fn build() -> Result<()> {
    let book = crate::workspace::root().join("book");
    let problems = broken_includes(&book.join("src"))?;
    if !problems.is_empty() {
        bail!("broken includes in the book:\n  {}", problems.join("\n  "));
    }
    draw_labs(&book.join("src/chapter08"))?;
    crate::workspace::run_status(Command::new(crate::setup::mdbook()).arg("build").arg(&book))?;
    println!("book: built {}", book.join("build/index.html").display());
    Ok(())
}

/// `lab-NAME.svg` for each of the lab's topologies, rendered by Graphviz (which set-up installs).
fn draw_labs(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for topology in ebpf_support::lab::TOPOLOGIES {
        let svg = dir.join(format!("lab-{}.svg", topology.name));
        let mut dot = Command::new("dot")
            .arg("-Tsvg")
            .arg("-o")
            .arg(&svg)
            .stdin(Stdio::piped())
            .spawn()
            .context("running Graphviz's dot (cargo xtask setup installs it)")?;
        dot.stdin
            .take()
            .expect("piped")
            .write_all(topology.dot().as_bytes())?;
        if !dot.wait()?.success() {
            bail!("dot could not draw the {} lab", topology.name);
        }
    }
    Ok(())
}

/// Every `{{#include path[:anchor]}}` (and `#rustdoc_include`) whose file or anchor is missing.
pub fn broken_includes(src: &Path) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for page in markdown_files(src)? {
        let text = std::fs::read_to_string(&page)?;
        for (number, line) in text.lines().enumerate() {
            for directive in include_directives(line) {
                let (file, selector) = match directive.split_once(':') {
                    Some((file, selector)) => (file, Some(selector)),
                    None => (directive, None),
                };
                let target = page.parent().unwrap().join(file);
                let place = format!(
                    "{}:{}",
                    page.strip_prefix(src).unwrap_or(&page).display(),
                    number + 1
                );
                let Ok(content) = std::fs::read_to_string(&target) else {
                    problems.push(format!("{place}: no such file {file}"));
                    continue;
                };
                if let Some(problem) = selector.and_then(|s| check_selector(&content, s)) {
                    problems.push(format!("{place}: {file}: {problem}"));
                }
            }
        }
    }
    Ok(problems)
}

/// The argument of each include directive on a line.
fn include_directives(line: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let body = after[..end].trim();
        if let Some(arg) = body
            .strip_prefix("include ")
            .or_else(|| body.strip_prefix("rustdoc_include "))
        {
            found.push(arg.trim());
        }
        rest = &after[end..];
    }
    found
}

/// A named anchor must exist; a line range must lie within the file.
fn check_selector(content: &str, selector: &str) -> Option<String> {
    let is_range = selector.chars().all(|c| c.is_ascii_digit() || c == ':');
    if is_range {
        let first: usize = selector.split(':').next()?.parse().ok()?;
        return (first > content.lines().count()).then(|| format!("line {first} is past the end"));
    }
    let anchored = content.contains(&format!("ANCHOR: {selector}"))
        && content.contains(&format!("ANCHOR_END: {selector}"));
    (!anchored).then(|| format!("no ANCHOR: {selector} … ANCHOR_END: {selector}"))
}

fn markdown_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(markdown_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_missing_files_and_anchors() {
        let dir = std::env::temp_dir().join(format!("xtask-book-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("code.rs"),
            "// ANCHOR: main\nfn main() {}\n// ANCHOR_END: main\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("page.md"),
            "```rust\n{{#include code.rs:main}}\n{{#include code.rs}}\n{{#include code.rs:gone}}\n{{#include missing.rs}}\n```\n",
        )
        .unwrap();
        let problems = broken_includes(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("page.md:4") && problems[0].contains("gone"));
        assert!(problems[1].contains("page.md:5") && problems[1].contains("missing.rs"));
    }
}
