//! The README's install section and first example agree: the example names
//! no crate the install section leaves out, and the `cargo add` line adds
//! what the `Cargo.toml` block lists. The example builds, as written, in a
//! fresh crate whose dependencies are exactly the install block's (the doc
//! tests, `ReadmeDoctests` in `runner/src/lib.rs`, build it inside this
//! workspace, where more crates are at hand).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const README: &str = include_str!("../../../README.md");

/// The body of the first fenced block after `heading` that opens with `fence`.
fn block_after<'a>(heading: &str, fence: &str) -> &'a str {
    let from = README
        .find(heading)
        .unwrap_or_else(|| panic!("the README has no `{heading}`"));
    let rest = &README[from..];
    let start = rest
        .find(fence)
        .unwrap_or_else(|| panic!("no {fence} block after `{heading}`"));
    let body = &rest[start + fence.len()..];
    let body = &body[body.find('\n').map_or(0, |i| i + 1)..];
    let end = body.find("\n```").expect("the block ends");
    &body[..end]
}

/// The dependencies of the install section's `Cargo.toml`, as crate names
/// (`futures-util` is `futures_util` in code).
fn install_dependencies() -> BTreeSet<String> {
    block_after("## Install", "```toml")
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty() && !line.starts_with('['))
        .filter_map(|line| line.split('=').next())
        .map(|name| name.trim().replace('-', "_"))
        .collect()
}

/// The first segment of every path in `code` (`std` in `std::sync::Arc`).
fn path_roots(code: &str) -> BTreeSet<String> {
    let mut roots = BTreeSet::new();
    let bytes = code.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while let Some(at) = code[i..].find("::") {
        let end = i + at;
        let mut start = end;
        while start > 0 && ident(bytes[start - 1]) {
            start -= 1;
        }
        // A segment after another `::` is not a root.
        let after_path = start >= 2 && &code[start - 2..start] == "::";
        let word = &code[start..end];
        if !after_path && word.starts_with(|c: char| c.is_ascii_lowercase()) {
            roots.insert(word.to_owned());
        }
        i = end + 2;
    }
    roots
}

#[test]
fn the_first_example_names_only_crates_the_install_section_lists() {
    let deps = install_dependencies();
    for needed in [
        "toolrunner",
        "tokio",
        "futures_util",
        "serde",
        "serde_json",
        "schemars",
    ] {
        assert!(deps.contains(needed), "the install block lacks {needed}");
    }
    let example = block_after("## A first example", "```rust");
    // `models` comes from `toolrunner::prelude`; the rest is the standard library.
    let known: BTreeSet<&str> = ["std", "core", "alloc", "models"].into();
    for root in path_roots(example) {
        assert!(
            deps.contains(&root) || known.contains(root.as_str()),
            "the first example names `{root}`, which the install section does not list"
        );
    }
    // `#[tokio::main]` needs these two features.
    let install = block_after("## Install", "```toml");
    let tokio = install
        .lines()
        .find(|line| line.starts_with("tokio"))
        .expect("tokio");
    assert!(tokio.contains("\"macros\"") && tokio.contains("\"rt-multi-thread\""));
    assert!(install.contains("schemars = \"1\""), "schemars 1.x");
}

#[test]
fn the_cargo_add_line_adds_what_the_toml_block_lists() {
    let line = block_after("## Install", "```sh");
    let added: BTreeSet<String> = line
        .split_whitespace()
        .skip(2)
        .take_while(|word| !word.starts_with('-'))
        .map(|word| word.split('@').next().unwrap_or(word).replace('-', "_"))
        .collect();
    assert_eq!(added, install_dependencies());
    for feature in ["serde/derive", "tokio/macros", "tokio/rt-multi-thread"] {
        assert!(line.contains(feature), "`cargo add` lacks {feature}");
    }
}

/// A new crate, outside this workspace, with the install block as its
/// `[dependencies]` (toolrunner taken from this checkout) and the first
/// example as its `main.rs`: `cargo check` must pass. The workspace's lock
/// file pins the same versions, so nothing is fetched (`--offline`); the
/// crate has a target directory of its own, since the one this test runs
/// from is locked by the `cargo test` running it.
#[test]
fn the_first_example_builds_in_a_fresh_crate_with_the_install_block() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let Ok(cargo) = std::env::var("CARGO") else {
        crate::support::skip(
            "the_first_example_builds_in_a_fresh_crate: CARGO is not set (not run by cargo)",
        );
        return;
    };
    let runner = root.join("runner").canonicalize().expect("runner/");
    let dependencies = block_after("## Install", "```toml")
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("toolrunner") {
                format!(
                    "toolrunner = {{ path = {:?} }}",
                    runner.display().to_string()
                )
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        dependencies.contains("toolrunner = { path"),
        "{dependencies}"
    );
    let dir = root.join("target/tmp/readme-crate");
    std::fs::create_dir_all(dir.join("src")).expect("crate dir");
    let manifest = format!(
        "[package]\nname = \"readme-example\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n{dependencies}\n\n# Not a member of the checkout's workspace.\n[workspace]\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("Cargo.toml");
    std::fs::write(
        dir.join("src/main.rs"),
        block_after("## A first example", "```rust"),
    )
    .expect("main.rs");
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("Cargo.lock");
    let out = Command::new(cargo)
        .args(["check", "--offline", "--quiet"])
        .current_dir(&dir)
        .env(
            "CARGO_TARGET_DIR",
            root.join("target/tmp/readme-crate-target"),
        )
        // What the outer `cargo test` set must not steer the inner build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "the README's first example does not build in a fresh crate with the install block's dependencies:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
