//! The built-in memory tool and text editor: every command, every refusal,
//! file modes, atomic writes, limits, and the request the runner sends.

use crate::confined;
use crate::support;

use std::fs;

use confined::{Sandbox, TempDir, mode};
use serde_json::{Value, json};
use toolrunner::builtin::{Limits, MemoryTool, TextEditor};
use toolrunner::{MessageParams, ToolOutput, Toolset, tool, toolset};

fn ok(out: &ToolOutput) -> String {
    assert!(!out.is_error, "expected success, got {out}");
    out.text_content()
}

fn err(out: &ToolOutput) -> String {
    assert!(out.is_error, "expected an error, got {out}");
    out.text_content()
}

async fn memory(tool: &MemoryTool, input: Value) -> ToolOutput {
    tool.execute(input).await
}

// ---- memory: each command ----

#[tokio::test]
async fn memory_create_then_view_file_with_line_numbers() {
    let dir = TempDir::new("mem-create");
    let tool = MemoryTool::local(dir.path()).unwrap();
    let out = memory(&tool, json!({"command": "create", "path": "/memories/notes/todo.md", "file_text": "milk\neggs\nbread\n"})).await;
    assert_eq!(
        ok(&out),
        "File created successfully at: /memories/notes/todo.md"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("notes/todo.md")).unwrap(),
        "milk\neggs\nbread\n"
    );

    let out = memory(
        &tool,
        json!({"command": "view", "path": "/memories/notes/todo.md"}),
    )
    .await;
    assert_eq!(
        ok(&out),
        "Here's the content of /memories/notes/todo.md with line numbers:\n     1\tmilk\n     2\teggs\n     3\tbread"
    );
    let out = memory(
        &tool,
        json!({"command": "view", "path": "/memories/notes/todo.md", "view_range": [2, -1]}),
    )
    .await;
    assert_eq!(
        ok(&out),
        "Here's the content of /memories/notes/todo.md with line numbers:\n     2\teggs\n     3\tbread"
    );
    let out = memory(
        &tool,
        json!({"command": "view", "path": "/memories/notes/todo.md", "view_range": [2, 9]}),
    )
    .await;
    assert!(err(&out).starts_with("invalid `view_range` [2, 9]"));

    let again = memory(
        &tool,
        json!({"command": "create", "path": "/memories/notes/todo.md", "file_text": "x"}),
    )
    .await;
    assert_eq!(err(&again), "`/memories/notes/todo.md` already exists");
    assert_eq!(
        fs::read_to_string(dir.path().join("notes/todo.md")).unwrap(),
        "milk\neggs\nbread\n"
    );
}

#[tokio::test]
async fn memory_view_lists_two_levels_with_sizes_and_hides_dotfiles() {
    let dir = TempDir::new("mem-view-dir");
    let tool = MemoryTool::local(dir.path()).unwrap();
    fs::create_dir_all(dir.path().join("a/b/c")).unwrap();
    fs::write(dir.path().join("top.md"), "x".repeat(1536)).unwrap();
    fs::write(dir.path().join("a/one.md"), "12345").unwrap();
    fs::write(dir.path().join("a/b/c/deep.md"), "123").unwrap();
    fs::write(dir.path().join(".hidden"), "h").unwrap();
    fs::create_dir_all(dir.path().join("node_modules")).unwrap();
    let out = memory(&tool, json!({"command": "view", "path": "/memories"})).await;
    assert_eq!(
        ok(&out),
        "Here're the files and directories up to 2 levels deep in /memories, excluding hidden items and node_modules:\n\
         1.5K\t/memories\n\
         8B\t/memories/a/\n\
         3B\t/memories/a/b/\n\
         5B\t/memories/a/one.md\n\
         1.5K\t/memories/top.md"
    );
    let missing = memory(&tool, json!({"command": "view", "path": "/memories/nope"})).await;
    assert_eq!(err(&missing), "the path `/memories/nope` does not exist");
}

#[tokio::test]
async fn memory_str_replace_needs_exactly_one_match() {
    let dir = TempDir::new("mem-replace");
    let tool = MemoryTool::local(dir.path()).unwrap();
    fs::write(
        dir.path().join("prefs.md"),
        "tea: yes\ncoffee: no\ntea: later\n",
    )
    .unwrap();

    let none = memory(&tool, json!({"command": "str_replace", "path": "/memories/prefs.md", "old_str": "juice", "new_str": "x"})).await;
    assert_eq!(
        err(&none),
        "no replacement was performed: `old_str` `juice` does not appear verbatim in `/memories/prefs.md`"
    );
    let two = memory(&tool, json!({"command": "str_replace", "path": "/memories/prefs.md", "old_str": "tea", "new_str": "x"})).await;
    assert!(
        err(&two).contains("`old_str` `tea` appears 2 times in `/memories/prefs.md` (lines 1, 3)")
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("prefs.md")).unwrap(),
        "tea: yes\ncoffee: no\ntea: later\n"
    );

    let one = memory(&tool, json!({"command": "str_replace", "path": "/memories/prefs.md", "old_str": "coffee: no", "new_str": "coffee: yes"})).await;
    assert_eq!(
        ok(&one),
        "The file /memories/prefs.md has been edited. Here is the changed part with line numbers:\n     1\ttea: yes\n     2\tcoffee: yes\n     3\ttea: later"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("prefs.md")).unwrap(),
        "tea: yes\ncoffee: yes\ntea: later\n"
    );
    let missing = memory(&tool, json!({"command": "str_replace", "path": "/memories/none.md", "old_str": "a", "new_str": "b"})).await;
    assert_eq!(err(&missing), "the path `/memories/none.md` does not exist");
}

#[tokio::test]
async fn memory_insert_after_a_line() {
    let dir = TempDir::new("mem-insert");
    let tool = MemoryTool::local(dir.path()).unwrap();
    fs::write(dir.path().join("list.md"), "a\nc\n").unwrap();
    let out = memory(&tool, json!({"command": "insert", "path": "/memories/list.md", "insert_line": 1, "insert_text": "b\n"})).await;
    assert!(ok(&out).starts_with("The file /memories/list.md has been edited."));
    assert_eq!(
        fs::read_to_string(dir.path().join("list.md")).unwrap(),
        "a\nb\nc\n"
    );
    let top = memory(&tool, json!({"command": "insert", "path": "/memories/list.md", "insert_line": 0, "insert_text": "start"})).await;
    ok(&top);
    assert_eq!(
        fs::read_to_string(dir.path().join("list.md")).unwrap(),
        "start\na\nb\nc\n"
    );
    let bad = memory(&tool, json!({"command": "insert", "path": "/memories/list.md", "insert_line": 9, "insert_text": "x"})).await;
    assert_eq!(
        err(&bad),
        "invalid `insert_line` 9: `/memories/list.md` has 4 lines, so it must be between 0 and 4"
    );
}

#[tokio::test]
async fn memory_delete_files_and_directories_but_not_the_root() {
    let dir = TempDir::new("mem-delete");
    let tool = MemoryTool::local(dir.path()).unwrap();
    fs::create_dir_all(dir.path().join("old/inner")).unwrap();
    fs::write(dir.path().join("old/inner/x.md"), "x").unwrap();
    fs::write(dir.path().join("f.md"), "f").unwrap();
    assert_eq!(
        ok(&memory(
            &tool,
            json!({"command": "delete", "path": "/memories/f.md"})
        )
        .await),
        "Successfully deleted /memories/f.md"
    );
    assert_eq!(
        ok(&memory(&tool, json!({"command": "delete", "path": "/memories/old"})).await),
        "Successfully deleted /memories/old"
    );
    assert!(fs::read_dir(dir.path()).unwrap().next().is_none());
    assert_eq!(
        err(&memory(&tool, json!({"command": "delete", "path": "/memories"})).await),
        "cannot delete `/memories`: it is the memory directory itself"
    );
    assert_eq!(
        err(&memory(
            &tool,
            json!({"command": "delete", "path": "/memories/gone"})
        )
        .await),
        "the path `/memories/gone` does not exist"
    );
    assert!(dir.path().is_dir());
}

#[tokio::test]
async fn memory_rename_moves_and_refuses_clobbering() {
    let dir = TempDir::new("mem-rename");
    let tool = MemoryTool::local(dir.path()).unwrap();
    fs::write(dir.path().join("a.md"), "a").unwrap();
    fs::write(dir.path().join("b.md"), "b").unwrap();
    let out = memory(&tool, json!({"command": "rename", "old_path": "/memories/a.md", "new_path": "/memories/archive/a.md"})).await;
    assert_eq!(
        ok(&out),
        "Successfully renamed /memories/a.md to /memories/archive/a.md"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("archive/a.md")).unwrap(),
        "a"
    );
    let clobber = memory(&tool, json!({"command": "rename", "old_path": "/memories/b.md", "new_path": "/memories/archive/a.md"})).await;
    assert_eq!(
        err(&clobber),
        "the destination `/memories/archive/a.md` already exists"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("archive/a.md")).unwrap(),
        "a"
    );
    let missing = memory(
        &tool,
        json!({"command": "rename", "old_path": "/memories/zz.md", "new_path": "/memories/y.md"}),
    )
    .await;
    assert_eq!(err(&missing), "the path `/memories/zz.md` does not exist");
    let into_itself = memory(&tool, json!({"command": "rename", "old_path": "/memories/archive", "new_path": "/memories/archive/deeper"})).await;
    assert!(err(&into_itself).contains("a directory cannot move inside itself"));
    let root = memory(
        &tool,
        json!({"command": "rename", "old_path": "/memories", "new_path": "/memories/x"}),
    )
    .await;
    assert!(err(&root).contains("`/memories` itself cannot be moved"));
}

#[tokio::test]
async fn memory_rejects_malformed_commands() {
    let dir = TempDir::new("mem-bad");
    let tool = MemoryTool::local(dir.path()).unwrap();
    let unknown = memory(&tool, json!({"command": "explode", "path": "/memories"})).await;
    assert!(err(&unknown).starts_with("invalid memory command: unknown variant `explode`"));
    let missing = memory(&tool, json!({"command": "create", "path": "/memories/a"})).await;
    assert!(err(&missing).contains("missing field `file_text`"));
    let root = memory(
        &tool,
        json!({"command": "create", "path": "/memories", "file_text": "x"}),
    )
    .await;
    assert!(err(&root).contains("is the memory directory itself"));
}

// ---- text editor: each command ----

#[tokio::test]
async fn editor_commands_and_max_characters() {
    let dir = TempDir::new("editor");
    let editor = TextEditor::local(dir.path())
        .unwrap()
        .with_max_characters(30);
    let out = editor
        .execute(
            json!({"command": "create", "path": "src/main.rs", "file_text": "fn main() {\n}\n"}),
        )
        .await;
    assert_eq!(ok(&out), "File created successfully at: src/main.rs");
    // `create` replaces an existing file whole.
    let out = editor.execute(json!({"command": "create", "path": "src/main.rs", "file_text": "fn main() {\n    todo!()\n}\n"})).await;
    ok(&out);
    let out = editor.execute(json!({"command": "str_replace", "path": "src/main.rs", "old_str": "todo!()", "new_str": "println!(\"hi\");"})).await;
    ok(&out);
    let out = editor.execute(json!({"command": "insert", "path": "src/main.rs", "insert_line": 0, "insert_text": "// hello"})).await;
    ok(&out);
    // The older spelling of the inserted text is read too.
    let out = editor.execute(json!({"command": "insert", "path": "src/main.rs", "insert_line": 4, "new_str": "// end"})).await;
    ok(&out);
    assert_eq!(
        fs::read_to_string(dir.path().join("src/main.rs")).unwrap(),
        "// hello\nfn main() {\n    println!(\"hi\");\n}\n// end\n"
    );
    let view = editor
        .execute(json!({"command": "view", "path": "src/main.rs", "view_range": [2, 2]}))
        .await;
    assert_eq!(
        ok(&view),
        "Here's the content of src/main.rs with line numbers:\n     2\tfn main() {"
    );
    let long = editor
        .execute(json!({"command": "view", "path": "src/main.rs"}))
        .await;
    assert!(
        ok(&long).ends_with("[truncated: showing the first 30 of 84 characters (max_characters)]"),
        "{long}"
    );
    let listing = editor
        .execute(json!({"command": "view", "path": "."}))
        .await;
    assert!(ok(&listing).contains("\t./src/main.rs"), "{listing}");
    // An absolute path inside the directory is fine.
    let absolute = editor.root().join("src/main.rs");
    let out = editor
        .execute(
            json!({"command": "view", "path": absolute.to_str().unwrap(), "view_range": [1, 1]}),
        )
        .await;
    assert!(ok(&out).ends_with("     1\t// hello"));
    let two = editor.execute(json!({"command": "str_replace", "path": "src/main.rs", "old_str": "//", "new_str": "#"})).await;
    assert!(err(&two).contains("appears 2 times"));
    let delete = editor
        .execute(json!({"command": "delete", "path": "src/main.rs"}))
        .await;
    assert!(err(&delete).starts_with("invalid text editor command: unknown variant `delete`"));
}

#[tokio::test]
async fn editor_reports_missing_files_and_ranges_on_directories() {
    let dir = TempDir::new("editor-errors");
    let editor = TextEditor::local(dir.path()).unwrap();
    let missing = editor
        .execute(json!({"command": "view", "path": "nope.txt"}))
        .await;
    assert_eq!(err(&missing), "the path `nope.txt` does not exist");
    let replace = editor
        .execute(
            json!({"command": "str_replace", "path": "nope.txt", "old_str": "a", "new_str": "b"}),
        )
        .await;
    assert_eq!(err(&replace), "the path `nope.txt` does not exist");
    fs::create_dir(dir.path().join("d")).unwrap();
    let ranged = editor
        .execute(json!({"command": "view", "path": "d", "view_range": [1, 2]}))
        .await;
    assert_eq!(
        err(&ranged),
        "`view_range` applies to files, and `d` is a directory"
    );
    let onto_dir = editor
        .execute(json!({"command": "create", "path": "d", "file_text": "x"}))
        .await;
    assert_eq!(err(&onto_dir), "`d` is a directory, not a file");
}

#[cfg(unix)]
#[tokio::test]
async fn editor_accepts_absolute_paths_in_the_spelling_it_was_given() {
    let dir = TempDir::new("editor-alias");
    fs::create_dir(dir.path().join("real")).unwrap();
    std::os::unix::fs::symlink("real", dir.path().join("alias")).unwrap();
    let given = dir.path().join("alias");
    let editor = TextEditor::local(&given).unwrap();
    let path = given.join("f.txt");
    let out = editor
        .execute(json!({"command": "create", "path": path.to_str().unwrap(), "file_text": "f"}))
        .await;
    ok(&out);
    assert_eq!(
        fs::read_to_string(dir.path().join("real/f.txt")).unwrap(),
        "f"
    );
    let out = editor
        .execute(
            json!({"command": "view", "path": dir.path().join("real/f.txt").to_str().unwrap()}),
        )
        .await;
    ok(&out);
}

// ---- refusals: every way out, for both tools, nothing touched ----

/// Memory commands that try to leave the root, each with the path it names.
fn memory_escapes() -> Vec<Value> {
    let mut cases = vec![
        json!({"command": "view", "path": "/memories/../outside/secret.txt"}),
        json!({"command": "create", "path": "/memories/../outside/new.txt", "file_text": "x"}),
        json!({"command": "view", "path": "/etc/passwd"}),
        json!({"command": "create", "path": "/tmp/escaped.txt", "file_text": "x"}),
        json!({"command": "view", "path": "/memories\\..\\outside\\secret.txt"}),
        json!({"command": "create", "path": "/memories\\..\\escaped.txt", "file_text": "x"}),
        json!({"command": "create", "path": "/memories/a\u{0}b", "file_text": "x"}),
        json!({"command": "view", "path": "/memories/%2e%2e/outside/secret.txt"}),
        json!({"command": "create", "path": "/memories/%2E%2E%2Fescaped.txt", "file_text": "x"}),
        json!({"command": "delete", "path": "/memories/../outside"}),
        json!({"command": "rename", "old_path": "/memories/../outside/secret.txt", "new_path": "/memories/s.txt"}),
    ];
    if cfg!(unix) {
        cases.extend([
            json!({"command": "view", "path": "/memories/file_link"}),
            json!({"command": "view", "path": "/memories/link_out"}),
            json!({"command": "view", "path": "/memories/link_out/secret.txt"}),
            json!({"command": "view", "path": "/memories/abs_link/secret.txt"}),
            json!({"command": "create", "path": "/memories/abs_link/new.txt", "file_text": "pwned"}),
            json!({"command": "create", "path": "/memories/file_link", "file_text": "pwned"}),
            json!({"command": "create", "path": "/memories/dangling", "file_text": "pwned"}),
            json!({"command": "create", "path": "/memories/link_out/new.txt", "file_text": "pwned"}),
            json!({"command": "create", "path": "/memories/link_out/sub/new/deeper.txt", "file_text": "pwned"}),
            json!({"command": "str_replace", "path": "/memories/file_link", "old_str": "top", "new_str": "no"}),
            json!({"command": "str_replace", "path": "/memories/link_out/secret.txt", "old_str": "top", "new_str": "no"}),
            json!({"command": "insert", "path": "/memories/file_link", "insert_line": 0, "insert_text": "x"}),
            json!({"command": "insert", "path": "/memories/link_out/sub/deep.txt", "insert_line": 0, "insert_text": "x"}),
            json!({"command": "delete", "path": "/memories/link_out/secret.txt"}),
            json!({"command": "delete", "path": "/memories/link_out/sub"}),
            json!({"command": "rename", "old_path": "/memories/link_out/secret.txt", "new_path": "/memories/stolen.txt"}),
            json!({"command": "rename", "old_path": "/memories/file_link", "new_path": "/memories/link_out/planted"}),
            // The links themselves: refused and kept, like every other command on them.
            json!({"command": "delete", "path": "/memories/link_out"}),
            json!({"command": "delete", "path": "/memories/abs_link"}),
            json!({"command": "delete", "path": "/memories/file_link"}),
            json!({"command": "delete", "path": "/memories/dangling"}),
            json!({"command": "rename", "old_path": "/memories/link_out", "new_path": "/memories/moved"}),
            json!({"command": "rename", "old_path": "/memories/file_link", "new_path": "/memories/moved"}),
        ]);
    }
    cases
}

#[tokio::test]
async fn memory_refuses_every_escape_and_touches_nothing() {
    let sandbox = Sandbox::new("mem-escape");
    let tool = MemoryTool::local(&sandbox.root).unwrap();
    fs::write(sandbox.root.join("mine.md"), "mine\n").unwrap();
    let outside = sandbox.outside_snapshot();
    let inside = confined::snapshot(&sandbox.root);
    for input in memory_escapes() {
        let out = tool.execute(input.clone()).await;
        let message = err(&out);
        assert!(
            message.contains("is outside the memory directory"),
            "{input}: {message}"
        );
        assert_eq!(
            sandbox.outside_snapshot(),
            outside,
            "{input} changed the outside"
        );
        assert_eq!(
            confined::snapshot(&sandbox.root),
            inside,
            "{input} changed the root"
        );
    }
}

#[tokio::test]
async fn memory_view_of_the_root_hides_links_that_lead_outside() {
    let sandbox = Sandbox::new("mem-list-links");
    let tool = MemoryTool::local(&sandbox.root).unwrap();
    fs::write(sandbox.root.join("mine.md"), "mine\n").unwrap();
    let listing = ok(&tool
        .execute(json!({"command": "view", "path": "/memories"}))
        .await);
    assert!(
        listing.ends_with("5B\t/memories\n5B\t/memories/mine.md"),
        "{listing}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn memory_delete_of_a_link_leading_outside_is_refused_and_the_link_kept() {
    let sandbox = Sandbox::new("mem-delete-link");
    let tool = MemoryTool::local(&sandbox.root).unwrap();
    std::os::unix::fs::symlink(&sandbox.outside, sandbox.root.join("escape")).unwrap();
    let out = tool
        .execute(json!({"command": "delete", "path": "/memories/escape"}))
        .await;
    assert_eq!(
        err(&out),
        "the path `/memories/escape` is outside the memory directory: it goes through a symbolic link that leads outside"
    );
    let link = fs::symlink_metadata(sandbox.root.join("escape")).unwrap();
    assert!(link.file_type().is_symlink());
    assert!(sandbox.outside.join("secret.txt").is_file());
}

#[tokio::test]
async fn refusals_name_the_path_as_the_model_sent_it() {
    let sandbox = Sandbox::new("refusal-names");
    let editor = TextEditor::local(&sandbox.root).unwrap();
    // Inside the root by its spelling, then climbing out of it.
    let sent = format!("{}/../outside/new2.txt", editor.root().display());
    let out = editor
        .execute(json!({"command": "create", "path": sent, "file_text": "x"}))
        .await;
    assert_eq!(
        err(&out),
        format!(
            "the path `{sent}` is outside the editor's directory: it climbs above the root with `..`"
        )
    );
    let relative = editor
        .execute(json!({"command": "create", "path": "../outside/new2.txt", "file_text": "x"}))
        .await;
    assert_eq!(
        err(&relative),
        "the path `../outside/new2.txt` is outside the editor's directory: it climbs above the root with `..`"
    );
    let memory = MemoryTool::local(&sandbox.root).unwrap();
    let out = memory
        .execute(
            json!({"command": "create", "path": "/memories/../outside/new2.txt", "file_text": "x"}),
        )
        .await;
    assert_eq!(
        err(&out),
        "the path `/memories/../outside/new2.txt` is outside the memory directory: it climbs above the root with `..`"
    );
    assert!(!sandbox.outside.join("new2.txt").exists());
}

fn editor_escapes() -> Vec<Value> {
    let mut cases = vec![
        json!({"command": "view", "path": "../outside/secret.txt"}),
        json!({"command": "create", "path": "../outside/new.txt", "file_text": "x"}),
        json!({"command": "view", "path": "/etc/passwd"}),
        json!({"command": "create", "path": "/tmp/escaped.txt", "file_text": "x"}),
        json!({"command": "view", "path": "..\\outside\\secret.txt"}),
        json!({"command": "create", "path": "a\u{0}b", "file_text": "x"}),
        json!({"command": "view", "path": "%2e%2e/outside/secret.txt"}),
        json!({"command": "create", "path": "C:/Windows/x.txt", "file_text": "x"}),
    ];
    if cfg!(unix) {
        cases.extend([
            json!({"command": "view", "path": "file_link"}),
            json!({"command": "view", "path": "link_out/sub"}),
            json!({"command": "create", "path": "file_link", "file_text": "pwned"}),
            json!({"command": "create", "path": "dangling", "file_text": "pwned"}),
            json!({"command": "create", "path": "link_out/new.txt", "file_text": "pwned"}),
            json!({"command": "str_replace", "path": "link_out/secret.txt", "old_str": "top", "new_str": "no"}),
            json!({"command": "insert", "path": "file_link", "insert_line": 0, "insert_text": "x"}),
        ]);
    }
    cases
}

#[tokio::test]
async fn editor_refuses_every_escape_and_touches_nothing() {
    let sandbox = Sandbox::new("editor-escape");
    let editor = TextEditor::local(&sandbox.root).unwrap();
    let outside = sandbox.outside_snapshot();
    let inside = confined::snapshot(&sandbox.root);
    let mut cases = editor_escapes();
    // The absolute spelling of a path outside, by way of the root.
    let sneaky = format!("{}/../outside/secret.txt", editor.root().display());
    cases.push(json!({"command": "view", "path": sneaky}));
    for input in cases {
        let out = editor.execute(input.clone()).await;
        let message = err(&out);
        assert!(
            message.contains("is outside the editor's directory"),
            "{input}: {message}"
        );
        assert_eq!(
            sandbox.outside_snapshot(),
            outside,
            "{input} changed the outside"
        );
        assert_eq!(
            confined::snapshot(&sandbox.root),
            inside,
            "{input} changed the root"
        );
    }
}

#[tokio::test]
async fn links_that_stay_inside_are_followed() {
    let dir = TempDir::new("inside-links");
    let tool = MemoryTool::local(dir.path()).unwrap();
    fs::create_dir_all(dir.path().join("real")).unwrap();
    fs::write(dir.path().join("real/a.md"), "a\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("real", dir.path().join("alias")).unwrap();
    #[cfg(unix)]
    {
        let out = tool
            .execute(json!({"command": "view", "path": "/memories/alias/a.md"}))
            .await;
        assert!(ok(&out).ends_with("     1\ta"));
        // Deleting the link removes the link, not what it points to.
        ok(&tool
            .execute(json!({"command": "delete", "path": "/memories/alias"}))
            .await);
        assert!(dir.path().join("real/a.md").is_file());
    }
}

// ---- modes, atomic writes, limits ----

#[cfg(unix)]
#[tokio::test]
async fn files_are_created_0600_and_directories_0700() {
    let dir = TempDir::new("modes");
    let tool = MemoryTool::local(dir.path().join("fresh")).unwrap();
    assert_eq!(
        mode(&fs::metadata(dir.path().join("fresh")).unwrap()),
        "700"
    );
    ok(&tool
        .execute(json!({"command": "create", "path": "/memories/x/y/z.md", "file_text": "z"}))
        .await);
    let root = dir.path().join("fresh");
    assert_eq!(mode(&fs::metadata(root.join("x")).unwrap()), "700");
    assert_eq!(mode(&fs::metadata(root.join("x/y")).unwrap()), "700");
    assert_eq!(mode(&fs::metadata(root.join("x/y/z.md")).unwrap()), "600");
    // An edit writes a new file, owner-only as well.
    ok(&tool.execute(json!({"command": "str_replace", "path": "/memories/x/y/z.md", "old_str": "z", "new_str": "zz"})).await);
    assert_eq!(mode(&fs::metadata(root.join("x/y/z.md")).unwrap()), "600");
    ok(&tool.execute(json!({"command": "rename", "old_path": "/memories/x/y/z.md", "new_path": "/memories/n/m.md"})).await);
    assert_eq!(mode(&fs::metadata(root.join("n")).unwrap()), "700");
}

#[cfg(unix)]
#[tokio::test]
async fn edits_replace_the_file_atomically_and_leave_no_temporary_file() {
    use std::os::unix::fs::MetadataExt;
    let dir = TempDir::new("atomic");
    let tool = MemoryTool::local(dir.path()).unwrap();
    ok(&tool
        .execute(json!({"command": "create", "path": "/memories/a.md", "file_text": "one\n"}))
        .await);
    let before = fs::metadata(dir.path().join("a.md")).unwrap().ino();
    // A reader holding the old file keeps reading the old content whole.
    let held = fs::File::open(dir.path().join("a.md")).unwrap();
    ok(&tool.execute(json!({"command": "str_replace", "path": "/memories/a.md", "old_str": "one", "new_str": "two"})).await);
    ok(&tool.execute(json!({"command": "insert", "path": "/memories/a.md", "insert_line": 1, "insert_text": "three"})).await);
    let after = fs::metadata(dir.path().join("a.md")).unwrap().ino();
    assert_ne!(
        before, after,
        "the edit must be a new file renamed into place"
    );
    assert_eq!(std::io::read_to_string(held).unwrap(), "one\n");
    assert_eq!(
        fs::read_to_string(dir.path().join("a.md")).unwrap(),
        "two\nthree\n"
    );
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a.md"]);
}

/// A path too long for the file system (over 4,096 bytes) once some of
/// its folders are made. The issue's `"d/" * 2100` fails alike, but its
/// 2,000 folders made and removed take seconds; long names need twenty.
fn too_deep(prefix: &str) -> String {
    let part = format!("d{}/", "e".repeat(199));
    format!("{prefix}d/{}f.md", part.repeat(25))
}

#[cfg(unix)]
#[tokio::test]
async fn a_failed_create_leaves_no_folder_it_made() {
    let dir = TempDir::new("failed-create");
    // Folders that were there before the write stay.
    fs::create_dir_all(dir.path().join("d/d")).unwrap();
    fs::write(dir.path().join("d/keep.md"), "kept\n").unwrap();
    let before = confined::snapshot(dir.path());

    let memory = MemoryTool::local(dir.path()).unwrap();
    let out = memory
        .execute(json!({"command": "create", "path": too_deep("/memories/"), "file_text": "x"}))
        .await;
    assert!(err(&out).contains("file name too long"), "{out}");
    assert_eq!(confined::snapshot(dir.path()), before);

    let editor = TextEditor::local(dir.path()).unwrap();
    let out = editor
        .execute(json!({"command": "create", "path": too_deep(""), "file_text": "x"}))
        .await;
    assert!(err(&out).contains("file name too long"), "{out}");
    assert_eq!(confined::snapshot(dir.path()), before);

    // Folders made, then a file name too long for them: they go too.
    let long_name = "n".repeat(300);
    let out = memory
        .execute(json!({"command": "create", "path": format!("/memories/new/deeper/{long_name}"), "file_text": "x"}))
        .await;
    assert!(err(&out).contains("file name too long"), "{out}");
    let out = editor
        .execute(
            json!({"command": "create", "path": format!("d/new/{long_name}"), "file_text": "x"}),
        )
        .await;
    assert!(err(&out).contains("file name too long"), "{out}");
    assert_eq!(confined::snapshot(dir.path()), before);

    // A store's rename, which makes the destination's folders, alike.
    use toolrunner::builtin::{LocalStore, MemoryPath, MemoryStore};
    let store = LocalStore::new(dir.path()).unwrap();
    let from = MemoryPath::parse_relative("d/keep.md").unwrap();
    let to = MemoryPath::parse_relative(&format!("moved/deeper/{long_name}")).unwrap();
    let failed = store.rename(&from, &to).await.unwrap_err();
    assert!(
        failed.to_string().contains("file name too long"),
        "{failed}"
    );
    assert_eq!(confined::snapshot(dir.path()), before);
}

#[tokio::test]
async fn size_limits_are_enforced_and_named() {
    let dir = TempDir::new("limits");
    let limits = Limits::default()
        .with_max_file_bytes(100)
        .with_max_view_chars(200);
    let tool = MemoryTool::local(dir.path()).unwrap().with_limits(limits);
    let big = memory(
        &tool,
        json!({"command": "create", "path": "/memories/big.md", "file_text": "x".repeat(101)}),
    )
    .await;
    assert_eq!(
        err(&big),
        "`/memories/big.md` would be 101 bytes, over the limit of 100 bytes (max_file_bytes)"
    );
    assert!(!dir.path().join("big.md").exists());

    ok(&memory(
        &tool,
        json!({"command": "create", "path": "/memories/edge.md", "file_text": "x".repeat(100)}),
    )
    .await);
    let grow = memory(&tool, json!({"command": "insert", "path": "/memories/edge.md", "insert_line": 0, "insert_text": "y"})).await;
    assert!(err(&grow).contains("over the limit of 100 bytes (max_file_bytes)"));
    assert_eq!(
        fs::read_to_string(dir.path().join("edge.md")).unwrap(),
        "x".repeat(100)
    );

    fs::write(dir.path().join("planted.md"), "p".repeat(500)).unwrap();
    let read = memory(
        &tool,
        json!({"command": "view", "path": "/memories/planted.md"}),
    )
    .await;
    assert_eq!(
        err(&read),
        "`/memories/planted.md` is 500 bytes, over the limit of 100 bytes (max_file_bytes)"
    );

    let lines = "a\n".repeat(50);
    ok(&memory(
        &tool,
        json!({"command": "create", "path": "/memories/lines.md", "file_text": lines}),
    )
    .await);
    let view = memory(
        &tool,
        json!({"command": "view", "path": "/memories/lines.md"}),
    )
    .await;
    assert!(
        err(&view).contains("over the limit of 200 characters (max_view_chars)"),
        "{view}"
    );
    ok(&memory(
        &tool,
        json!({"command": "view", "path": "/memories/lines.md", "view_range": [1, 5]}),
    )
    .await);

    let editor = TextEditor::local(dir.path()).unwrap().with_limits(limits);
    let out = editor
        .execute(json!({"command": "create", "path": "e.txt", "file_text": "e".repeat(101)}))
        .await;
    assert!(err(&out).contains("(max_file_bytes)"));
}

// ---- in a toolset, over the wire ----

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[tokio::test]
async fn runner_sends_type_only_definitions_and_runs_the_tools() {
    use support::{message, text, tool_use};
    let dir = TempDir::new("runner");
    let memory = MemoryTool::local(dir.path().join("memories")).unwrap();
    let editor = TextEditor::local(dir.path().join("work"))
        .unwrap()
        .with_max_characters(2000);
    let tools = toolset![add]
        .merge(Toolset::from(memory))
        .unwrap()
        .merge(Toolset::from(editor))
        .unwrap();
    let server = support::server(vec![
        message(
            "m1",
            json!([
                tool_use("t1", "memory", json!({"command": "create", "path": "/memories/user.md", "file_text": "likes tea\n"})),
                tool_use("t2", "str_replace_based_edit_tool", json!({"command": "view", "path": "../x"})),
            ]),
            "tool_use",
        ),
        message("m2", json!([text("Noted.")]), "end_turn"),
    ])
    .await;
    let client = support::client(&server);
    let done = client
        .tool_runner(
            MessageParams::new("claude-test", 256).user("Remember I like tea."),
            tools,
        )
        .message_threads(false)
        .until_done()
        .await
        .unwrap();
    assert_eq!(done.text(), "Noted.");

    let requests = server.requests();
    let sent_tools = requests[0]["tools"].as_array().unwrap();
    assert_eq!(sent_tools.len(), 3);
    assert_eq!(sent_tools[0]["name"], "add");
    assert_eq!(
        sent_tools[1],
        json!({"type": "memory_20250818", "name": "memory"})
    );
    assert_eq!(
        sent_tools[2],
        json!({"type": "text_editor_20250728", "name": "str_replace_based_edit_tool", "max_characters": 2000})
    );
    let results = &requests[1]["messages"][2]["content"];
    assert_eq!(
        results[0]["content"],
        "File created successfully at: /memories/user.md"
    );
    assert_eq!(results[0].get("is_error"), None);
    assert_eq!(results[1]["is_error"], true);
    assert!(
        results[1]["content"]
            .as_str()
            .unwrap()
            .contains("is outside the editor's directory")
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("memories/user.md")).unwrap(),
        "likes tea\n"
    );
}

#[tokio::test]
async fn the_model_remembers_across_two_conversations() {
    use support::{message, text, tool_use};
    let dir = TempDir::new("two-runs");
    // First conversation: the model writes a note.
    let first = support::server(vec![
        message(
            "m1",
            json!([tool_use("t1", "memory", json!({"command": "create", "path": "/memories/prefs.md", "file_text": "green tea\n"}))]),
            "tool_use",
        ),
        message("m2", json!([text("Noted.")]), "end_turn"),
    ])
    .await;
    let tools = Toolset::from(MemoryTool::local(dir.path()).unwrap());
    support::client(&first)
        .tool_runner(
            MessageParams::new("claude-test", 256).user("I drink green tea."),
            tools,
        )
        .until_done()
        .await
        .unwrap();
    // Second conversation, no shared history and a new tool on the same
    // directory: what the model reads comes from the first.
    let second = support::server(vec![
        message(
            "m3",
            json!([tool_use(
                "t2",
                "memory",
                json!({"command": "view", "path": "/memories/prefs.md"})
            )]),
            "tool_use",
        ),
        message("m4", json!([text("Green tea, then.")]), "end_turn"),
    ])
    .await;
    let tools = Toolset::from(MemoryTool::local(dir.path()).unwrap());
    support::client(&second)
        .tool_runner(
            MessageParams::new("claude-test", 256).user("What should I order?"),
            tools,
        )
        .message_threads(false)
        .until_done()
        .await
        .unwrap();
    let requests = second.requests();
    assert_eq!(requests[0]["messages"].as_array().unwrap().len(), 1);
    assert_eq!(
        requests[1]["messages"][2]["content"][0]["content"],
        "Here's the content of /memories/prefs.md with line numbers:\n     1\tgreen tea"
    );
}
