//! Property test: random paths and command sequences thrown at the memory
//! tool and the text editor never change anything outside their root, and
//! never panic.

use crate::confined;

use confined::Sandbox;
use proptest::prelude::*;
use serde_json::{Value, json};
use toolrunner::builtin::{MemoryTool, TextEditor};

/// Path parts chosen to hit every way out: climbing, links planted to lead
/// outside, encodings, separators, NUL, drive letters, absolute paths.
const PARTS: &[&str] = &[
    "a",
    "b",
    "notes.md",
    "..",
    ".",
    "",
    "link_out",
    "file_link",
    "dangling",
    "abs_link",
    "secret.txt",
    "sub",
    "deep.txt",
    "outside",
    "%2e%2e",
    "%2F",
    "..\\..",
    "a\0b",
    "C:",
    "etc",
    "root",
    "...",
    "~",
    "-",
];

fn part() -> impl Strategy<Value = String> {
    prop::sample::select(PARTS).prop_map(str::to_owned)
}

/// The links planted in the root, which lead outside.
const LINKS: &[&str] = &["link_out", "file_link", "dangling", "abs_link"];

/// A first part: often a planted link, so that paths go through them.
fn first_part() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => part(),
        1 => prop::sample::select(LINKS).prop_map(str::to_owned),
    ]
}

/// A path: parts after a prefix, usually the tool's own root.
fn path(usual: &'static str, prefixes: &'static [&'static str]) -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        3 => Just(usual),
        1 => prop::sample::select(prefixes),
    ];
    (prefix, first_part(), prop::collection::vec(part(), 0..4)).prop_map(|(prefix, first, rest)| {
        let mut parts = vec![first];
        parts.extend(rest);
        format!("{prefix}{}", parts.join("/"))
    })
}

fn text() -> impl Strategy<Value = String> {
    prop::sample::select(&["", "x", "top", "secret", "line\n", "a\nb\n", "pwned\n"][..])
        .prop_map(str::to_owned)
}

fn memory_command() -> impl Strategy<Value = Value> {
    let p = || {
        path(
            "/memories/",
            &[
                "/memories",
                "/",
                "",
                "/memories/../",
                "/tmp/",
                "/memories\\",
            ],
        )
    };
    prop_oneof![
        (p(), prop::option::of((-2i64..6, -2i64..6)))
            .prop_map(|(path, range)| match range {
                Some((a, b)) => json!({"command": "view", "path": path, "view_range": [a, b]}),
                None => json!({"command": "view", "path": path}),
            }),
        (p(), text()).prop_map(|(path, t)| json!({"command": "create", "path": path, "file_text": t})),
        (p(), text(), text()).prop_map(|(path, old, new)| json!({"command": "str_replace", "path": path, "old_str": old, "new_str": new})),
        (p(), -1i64..4, text()).prop_map(|(path, line, t)| json!({"command": "insert", "path": path, "insert_line": line, "insert_text": t})),
        p().prop_map(|path| json!({"command": "delete", "path": path})),
        (p(), p()).prop_map(|(old, new)| json!({"command": "rename", "old_path": old, "new_path": new})),
    ]
}

fn editor_command() -> impl Strategy<Value = Value> {
    // `@` stands for the root's absolute path, filled in when run.
    let p = || path("", &["./", "/", "../", "@/", "@/../", "%2e%2e/"]);
    prop_oneof![
        (p(), prop::option::of((-2i64..6, -2i64..6)))
            .prop_map(|(path, range)| match range {
                Some((a, b)) => json!({"command": "view", "path": path, "view_range": [a, b]}),
                None => json!({"command": "view", "path": path}),
            }),
        (p(), text()).prop_map(|(path, t)| json!({"command": "create", "path": path, "file_text": t})),
        (p(), text(), text()).prop_map(|(path, old, new)| json!({"command": "str_replace", "path": path, "old_str": old, "new_str": new})),
        (p(), -1i64..4, text()).prop_map(|(path, line, t)| json!({"command": "insert", "path": path, "insert_line": line, "insert_text": t})),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn nothing_outside_the_root_changes(
        memory_commands in prop::collection::vec(memory_command(), 1..12),
        editor_commands in prop::collection::vec(editor_command(), 1..12),
    ) {
        let sandbox = Sandbox::new("props");
        let before = sandbox.outside_snapshot();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let memory = MemoryTool::local(&sandbox.root).unwrap();
            let editor = TextEditor::local(&sandbox.root).unwrap();
            let root = editor.root().display().to_string();
            for command in &memory_commands {
                let out = memory.execute(command.clone()).await;
                if out.text_content().contains(" is outside the ") {
                    prop_assert!(out.is_error, "{command}: {out}");
                }
                prop_assert_eq!(&sandbox.outside_snapshot(), &before, "after {}", command);
            }
            for command in &editor_commands {
                let mut command = command.clone();
                if let Some(path) = command["path"].as_str() {
                    command["path"] = json!(path.replacen('@', &root, 1));
                }
                let out = editor.execute(command.clone()).await;
                if out.text_content().contains(" is outside the ") {
                    prop_assert!(out.is_error, "{command}: {out}");
                }
                prop_assert_eq!(&sandbox.outside_snapshot(), &before, "after {}", command);
            }
            Ok(())
        })?;
    }
}
