//! Every variant of hello-verifier on this kernel: the verdict and the key line of the log,
//! recorded as this kernel's snapshot; and CATALOGUE.md, generated from the variants and every
//! kernel's snapshot.

use std::path::Path;
use std::process::Command;

use chapter06::catalogue::{self, Verdict};
use chapter06::variants::VARIANTS;
use chapter06::verifier_log;
use ebpf_support::testing;

const BINARY: &str = env!("CARGO_BIN_EXE_hello-verifier");

mod hello_verifier {
    use super::*;

    /// Loads one variant (or, with `None`, runs the unbroken program briefly) and reads the
    /// verdict from what the reader sees.
    fn verdict(variant: Option<&str>) -> Verdict {
        let args: Vec<&str> = match variant {
            Some(name) => vec!["--break", name],
            None => vec!["--timeout", "0.2"],
        };
        let output = Command::new(BINARY).args(&args).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        let logs = verifier_log::logs(&stdout);
        let accepted = output.status.success();
        let name = variant.unwrap_or(catalogue::UNBROKEN);
        let program = chapter06::variants::find(name).map_or("kprobe_exec", |v| v.program);
        let last = stderr.lines().last().unwrap_or_default();
        let log = if accepted {
            if variant.is_some() {
                assert!(
                    last.contains(&format!("the verifier accepted variant {name} (")),
                    "{stderr}"
                );
            }
            logs.iter().find(|(p, _)| p == program)
        } else {
            assert!(
                last.starts_with("hello-verifier: the verifier rejected "),
                "{stderr}"
            );
            if variant.is_some() {
                assert!(last.contains(&format!("(variant {name}: ")), "{stderr}");
            }
            logs.last()
        };
        let (_, log) = log.unwrap_or_else(|| panic!("no log of {program}: {stdout}{stderr}"));
        Verdict {
            variant: name.to_string(),
            accepted,
            key: verifier_log::key_line(log, accepted),
        }
    }

    // ANCHOR: catalogue_test
    #[test]
    fn each_variant_gets_this_kernels_recorded_verdict() {
        if !testing::ready_for(&chapter06::HELLO_VERIFIER) {
            return;
        }
        let mut verdicts = vec![verdict(None)];
        assert!(
            verdicts[0].accepted,
            "the unbroken program must load: {:?}",
            verdicts[0]
        );
        // Side by side: the unbounded loop keeps the verifier busy for a million instructions
        // (two minutes in an emulated lane) while the others load.
        verdicts.extend(std::thread::scope(|scope| {
            let loads: Vec<_> = VARIANTS
                .iter()
                .map(|v| scope.spawn(move || verdict(Some(v.name))))
                .collect();
            loads
                .into_iter()
                .map(|load| load.join().unwrap())
                .collect::<Vec<_>>()
        }));
        // Straight to stderr, past libtest's capture: the test log shows each verdict on every
        // kernel, passing or not.
        let kernel = catalogue::this_kernel();
        let mut shown = String::new();
        for v in &verdicts {
            let verdict = if v.accepted { "loads" } else { "rejected" };
            shown.push_str(&format!(
                "verifier on {kernel}: {} {verdict}: {}\n",
                v.variant, v.key
            ));
        }
        let _ = std::io::Write::write_all(&mut std::io::stderr(), shown.as_bytes());
        let clang = env!("LEARNING_EBPF_CLANG_VERSION");
        if clang == catalogue::SNAPSHOT_CLANG {
            insta::assert_snapshot!(
                catalogue::snapshot_name(&kernel),
                catalogue::snapshot_text(&verdicts)
            );
            return;
        }
        // Built with another clang: the same verdicts and messages, their numbers aside.
        catalogue::assert_recorded_but_for_numbers(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"),
            &kernel,
            clang,
            &verdicts,
        );
    }
    // ANCHOR_END: catalogue_test

    /// CATALOGUE.md and the README's copy are what the variants and snapshots make of them.
    /// `UPDATE_CATALOGUE=1` writes them.
    #[test]
    fn the_catalogue_is_up_to_date() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let measured = catalogue::measured(&root.join("tests/snapshots"));
        let text = catalogue::markdown(&measured);
        let readme_path = root.join("README.md");
        let readme = std::fs::read_to_string(&readme_path).unwrap();
        let readme_now =
            catalogue::in_readme(&readme, &text).expect("catalogue markers in README.md");
        let path = root.join("CATALOGUE.md");
        if std::env::var_os("UPDATE_CATALOGUE").is_some() {
            std::fs::write(&path, &text).unwrap();
            std::fs::write(&readme_path, &readme_now).unwrap();
            return;
        }
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            written == text && readme == readme_now,
            "chapter06/CATALOGUE.md or the README's copy is stale: run UPDATE_CATALOGUE=1 cargo test -p chapter06 --test verifier catalogue"
        );
    }
}
