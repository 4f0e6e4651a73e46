//! The Files API end to end against the scripted server on loopback: the
//! exact upload body and headers, paging, downloads to disk (memory kept
//! flat, cut downloads cleaned up), hostile names, typed errors, and a
//! run's artifacts saved into a directory.

use crate::support;

use support::*;

use std::path::{Path, PathBuf};

use futures_util::{StreamExt, TryStreamExt};
use serde_json::json;
use toolrunner::testing::{ScriptedFile, ScriptedServer, Sequence};
use toolrunner::{ContentBlock, FileUpload, toolset};

/// Set in the child process of the memory test: the scripted server's URL.
const CHILD_URL: &str = "TOOLRUNNER_FILES_CHILD_URL";
/// And the path the child downloads to.
const CHILD_PATH: &str = "TOOLRUNNER_FILES_CHILD_PATH";
/// Set to `buffer` for the control run: the child collects the download in
/// memory, to show that the measurement would catch that.
const CHILD_MODE: &str = "TOOLRUNNER_FILES_CHILD_MODE";
const BIG: usize = 50 * 1024 * 1024;

async fn files_server() -> ScriptedServer {
    ScriptedServer::start(Sequence::new([]))
        .await
        .expect("bind loopback")
}

/// A fresh, empty directory under the system's temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "toolrunner-files-{name}-{}-{:x}",
        std::process::id(),
        fastrand_u64()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(0u8)
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The byte at `i` of the big file: a pattern that shows misplaced bytes.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

#[tokio::test]
async fn upload_sends_one_multipart_part_with_the_files_beta() {
    let server = files_server().await;
    let client = client(&server);
    let csv = "month,total\nJan,3\nFeb,5\n";
    let meta = client
        .files()
        .upload(FileUpload::bytes("sales.csv", csv))
        .await
        .unwrap();
    assert_eq!(meta.id, "file_upload_1");
    assert_eq!(meta.filename, "sales.csv");
    assert_eq!(meta.mime_type, "text/csv");
    assert_eq!(meta.size_bytes, csv.len() as u64);
    assert!(!meta.downloadable);

    let request = &server.recorded()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/v1/files");
    assert_eq!(
        request.header("anthropic-beta"),
        Some("files-api-2025-04-14")
    );
    assert_eq!(request.header("anthropic-version"), Some("2026-10-21"));
    assert_eq!(request.header("x-api-key"), Some("test-key"));
    let content_type = request.header("content-type").unwrap();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .expect(content_type);
    assert_eq!(
        request.body,
        format!(
            "--{boundary}\r\n\
             content-disposition: form-data; name=\"file\"; filename=\"sales.csv\"\r\n\
             content-type: text/csv\r\n\
             \r\n\
             {csv}\r\n\
             --{boundary}--\r\n"
        )
    );
    assert_eq!(
        request.header("content-length"),
        Some(request.body.len().to_string().as_str())
    );
    // Files requests stay out of the Messages requests.
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn upload_streams_a_file_from_disk_with_its_type() {
    let server = files_server().await;
    let dir = temp_dir("upload");
    let path = dir.join("report \"final\".pdf");
    let content: Vec<u8> = (0..200_000).map(pattern).collect();
    std::fs::write(&path, &content).unwrap();

    let meta = client(&server)
        .files()
        .upload(FileUpload::path(&path))
        .await
        .unwrap();
    assert_eq!(meta.mime_type, "application/pdf");
    // The quote is escaped in the part header, as browsers do.
    assert_eq!(meta.filename, "report %22final%22.pdf");
    let stored = server.file(&meta.id).unwrap();
    assert_eq!(stored.content().as_ref(), &content[..]);

    let missing = FileUpload::path(dir.join("missing.csv"));
    let e = client(&server).files().upload(missing).await.unwrap_err();
    assert!(e.is_io(), "{e:?}");
    assert_eq!(e.path(), Some(dir.join("missing.csv").as_path()));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every character whose escaping could differ between clients: each C0
/// control, `\`, `"`, DEL, and non-ASCII of two, three and four bytes.
fn awkward_characters() -> Vec<char> {
    let mut chars: Vec<char> = (0u8..=0x1f).map(char::from).collect();
    chars.extend(['\\', '"', '\u{7f}', 'é', '日', '😀']);
    chars
}

/// The part header the official Python SDK's HTTP client (httpx2) sends
/// for `c` in a name: `"` as `%22`, `\` doubled, C0 controls as `%XX` but
/// ESC, which it leaves as it is, like DEL and non-ASCII.
fn sdk_escaped(c: char) -> String {
    match c {
        '"' => "%22".to_owned(),
        '\\' => "\\\\".to_owned(),
        '\u{1b}' => c.to_string(),
        c if c < ' ' => format!("%{:02X}", u32::from(c)),
        c => c.to_string(),
    }
}

/// The content-disposition value of the file part in an upload's body.
fn disposition(body: &str) -> &str {
    let start = body.find("content-disposition: ").unwrap() + "content-disposition: ".len();
    let end = start + body[start..].find("\r\ncontent-type: ").unwrap();
    &body[start..end]
}

/// The names uploaded one by one; what our part header says for each.
async fn uploaded_dispositions(names: &[String]) -> Vec<String> {
    let server = files_server().await;
    let client = client(&server);
    for name in names {
        let upload = FileUpload::bytes(name.clone(), "x").mime_type("text/plain");
        client.files().upload(upload).await.unwrap();
    }
    let recorded = server.recorded();
    assert_eq!(recorded.len(), names.len());
    recorded
        .iter()
        .map(|r| disposition(&r.body).to_owned())
        .collect()
}

#[tokio::test]
async fn upload_names_are_escaped_as_the_python_sdk_escapes_them() {
    let chars = awkward_characters();
    let names: Vec<String> = chars.iter().map(|c| format!("a{c}b.txt")).collect();
    let sent = uploaded_dispositions(&names).await;
    for (c, sent) in chars.iter().zip(&sent) {
        assert_eq!(
            *sent,
            format!(
                "form-data; name=\"file\"; filename=\"a{}b.txt\"",
                sdk_escaped(*c)
            ),
            "U+{:04X}",
            u32::from(*c)
        );
    }
}

/// A Python with httpx2 (the HTTP client of the official Python SDK), in a
/// virtual environment kept under the target directory; `None`, with the
/// reason printed, when there is no Python. A failed install fails the test.
fn python_with_httpx2() -> Option<PathBuf> {
    match support::python::venv("httpx2", &["httpx2>=2,<3"], "import httpx2") {
        Ok(Some(python)) => Some(python),
        Ok(None) => {
            support::skip("no python3 to run httpx2 with");
            None
        }
        Err(e) => panic!("installing httpx2: {e}"),
    }
}

#[tokio::test]
async fn upload_names_match_httpx2_byte_for_byte() {
    let Some(python) = python_with_httpx2() else {
        return;
    };
    let names: Vec<String> = awkward_characters()
        .iter()
        .map(|c| format!("a{c}b.txt"))
        .collect();
    // httpx2 builds the same uploads; its part headers come back as hex, so
    // that every byte survives the trip.
    let script = r#"
import json, sys, httpx2
out = []
for name in json.load(sys.stdin):
    body = httpx2.Request("POST", "http://x/", files={"file": (name, b"x", "text/plain")}).read()
    head = body.split(b"\r\n")[1]
    out.append(head.split(b": ", 1)[1].hex())
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(serde_json::to_string(&names).unwrap().as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let theirs: Vec<String> = serde_json::from_slice(&output.stdout).unwrap();
    let ours: Vec<String> = uploaded_dispositions(&names)
        .await
        .iter()
        .map(|d| d.bytes().map(|b| format!("{b:02x}")).collect())
        .collect();
    assert_eq!(ours.len(), names.len());
    for ((name, ours), theirs) in names.iter().zip(&ours).zip(&theirs) {
        assert_eq!(ours, theirs, "{name:?}");
    }
}

#[tokio::test]
async fn list_pages_through_three_pages_with_limit_and_after_id() {
    let server = files_server().await;
    for n in 1..=5 {
        server.add_file(ScriptedFile::new(
            format!("file_{n}"),
            format!("{n}.txt"),
            "text/plain",
            "x",
        ));
    }
    let client = client(&server);
    let pages: Vec<_> = client
        .files()
        .list()
        .limit(2)
        .pages()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<Vec<&str>> = pages
        .iter()
        .map(|p| p.data.iter().map(|f| f.id.as_str()).collect())
        .collect();
    assert_eq!(
        ids,
        [
            vec!["file_5", "file_4"],
            vec!["file_3", "file_2"],
            vec!["file_1"]
        ]
    );
    let targets: Vec<String> = server.recorded().iter().map(|r| r.target.clone()).collect();
    assert_eq!(
        targets,
        [
            "/v1/files?limit=2",
            "/v1/files?limit=2&after_id=file_4",
            "/v1/files?limit=2&after_id=file_2",
        ]
    );
    for request in server.recorded() {
        assert_eq!(request.method, "GET");
        assert_eq!(
            request.header("anthropic-beta"),
            Some("files-api-2025-04-14")
        );
    }

    let all: Vec<_> = client
        .files()
        .list()
        .limit(3)
        .files()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    let newer: Vec<_> = client
        .files()
        .list()
        .limit(1)
        .before_id("file_3")
        .files()
        .map(|f| f.unwrap().id)
        .collect()
        .await;
    assert_eq!(newer, ["file_4", "file_5"]);
}

#[tokio::test]
async fn metadata_delete_and_typed_errors_name_the_file() {
    let server = files_server().await;
    server.add_file(ScriptedFile::new("file_ok", "a.csv", "text/csv", "a"));
    server.add_file(ScriptedFile::new("file_old", "old.csv", "text/csv", "a").expired());
    let files = client(&server).files();

    let meta = files.metadata("file_ok").await.unwrap();
    assert_eq!((meta.filename.as_str(), meta.size_bytes), ("a.csv", 1));
    assert_eq!(server.recorded()[0].target, "/v1/files/file_ok");

    let missing = files.metadata("file_nope").await.unwrap_err();
    assert!(
        missing.is_file_not_found() && missing.is_api(),
        "{missing:?}"
    );
    assert!(!missing.is_file_expired());
    assert_eq!(missing.file_id(), Some("file_nope"));
    assert_eq!(missing.request_id(), Some("req_files"));
    assert_eq!(
        missing.to_string(),
        "file `file_nope` not found: API error 404 not_found_error: file not found: file_nope (request-id req_files)"
    );

    let dir = temp_dir("expired");
    let expired = files
        .download_to("file_old", dir.join("old.csv"))
        .await
        .unwrap_err();
    assert!(
        expired.is_file_expired() && !expired.is_file_not_found(),
        "{expired:?}"
    );
    assert_eq!(expired.file_id(), Some("file_old"));
    assert!(
        expired
            .to_string()
            .starts_with("file `file_old` has expired: API error 404")
    );
    assert!(names_in(&dir).is_empty());

    let uploaded = files
        .upload(FileUpload::bytes("in.txt", "hi"))
        .await
        .unwrap();
    let e = files.download(&uploaded.id).await.unwrap_err();
    assert!(e.is_file_not_downloadable(), "{e:?}");
    assert_eq!(e.file_id(), Some(uploaded.id.as_str()));

    let deleted = files.delete("file_ok").await.unwrap();
    assert_eq!(deleted.id, "file_ok");
    assert!(
        files
            .metadata("file_ok")
            .await
            .unwrap_err()
            .is_file_not_found()
    );
    let last = server.recorded().into_iter().rev().nth(1).unwrap();
    assert_eq!(
        (last.method.as_str(), last.target.as_str()),
        ("DELETE", "/v1/files/file_ok")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn download_streams_bytes_and_download_to_writes_them() {
    let server = files_server().await;
    let content: Vec<u8> = (0..300_000).map(pattern).collect();
    server.add_file(ScriptedFile::new(
        "file_bin",
        "data.bin",
        "application/octet-stream",
        content.clone(),
    ));
    let files = client(&server).files();

    let mut download = files.download("file_bin").await.unwrap();
    assert_eq!(download.content_length(), Some(300_000));
    let mut got = Vec::new();
    while let Some(chunk) = download.try_next().await.unwrap() {
        got.extend_from_slice(&chunk);
    }
    assert_eq!(got, content);
    let request = server.recorded().pop().unwrap();
    assert_eq!(request.target, "/v1/files/file_bin/content");
    assert_eq!(request.header("accept"), Some("application/binary"));

    let dir = temp_dir("download-to");
    let path = dir.join("out.bin");
    std::fs::write(&path, "old").unwrap();
    let written = files.download_to("file_bin", &path).await.unwrap();
    assert_eq!(written, 300_000);
    assert_eq!(std::fs::read(&path).unwrap(), content);
    assert_eq!(names_in(&dir), ["out.bin"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_cut_download_leaves_nothing_and_says_how_far_it_got() {
    let server = files_server().await;
    let content: Vec<u8> = (0..1_000_000).map(pattern).collect();
    server.add_file(
        ScriptedFile::new("file_cut", "cut.bin", "application/octet-stream", content)
            .cut_after(300_000),
    );
    let files = client(&server).files();
    let dir = temp_dir("cut");

    let e = files
        .download_to("file_cut", dir.join("cut.bin"))
        .await
        .unwrap_err();
    assert!(e.is_download_incomplete() && e.is_retryable(), "{e:?}");
    assert_eq!(e.file_id(), Some("file_cut"));
    assert_eq!(e.bytes_received(), Some(300_000));
    assert_eq!(
        e.to_string(),
        "download of file `file_cut` broke off after 300000 bytes of 1000000"
    );
    assert!(names_in(&dir).is_empty(), "{:?}", names_in(&dir));

    // Into a directory: the name it had claimed is given back too.
    let e = files.download_to_dir("file_cut", &dir).await.unwrap_err();
    assert!(e.is_download_incomplete());
    assert!(names_in(&dir).is_empty(), "{:?}", names_in(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn hostile_names_in_metadata_stay_inside_the_directory() {
    let server = files_server().await;
    let hostile = [
        ("file_a", "../../etc/passwd", "passwd"),
        ("file_b", "a/b", "b"),
        ("file_c", "..", "file_c"),
        ("file_d", "", "file_d"),
        ("file_e", "evil\0name.txt", "evilname.txt"),
        ("file_f", "..\\..\\boot.ini", "boot.ini"),
        ("file_g", "/abs/.hidden", "hidden"),
    ];
    for (id, name, _) in hostile {
        server.add_file(ScriptedFile::new(id, name, "text/plain", id));
    }
    let files = client(&server).files();
    let dir = temp_dir("hostile");
    for (id, _, want) in hostile {
        let saved = files.download_to_dir(id, &dir).await.unwrap();
        assert_eq!(saved.path, dir.join(want), "{id}");
        assert_eq!(std::fs::read_to_string(&saved.path).unwrap(), id);
    }

    // A second file of the same name does not replace the first.
    server.add_file(ScriptedFile::new(
        "file_h",
        "../passwd",
        "text/plain",
        "second",
    ));
    let saved = files.download_to_dir("file_h", &dir).await.unwrap();
    assert_eq!(saved.path, dir.join("passwd (1)"));
    assert_eq!(
        std::fs::read_to_string(dir.join("passwd")).unwrap(),
        "file_a"
    );
    assert_eq!(names_in(&dir).len(), hostile.len() + 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn download_artifacts_saves_what_the_runs_wrote() {
    let run = json!({"type": "server_tool_use", "id": "srvtoolu_1", "name": "code_execution",
        "input": {"code": "df.plot().figure.savefig('chart.png')"}});
    let result = json!({"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_1", "content": {
    "type": "code_execution_result", "stdout": "", "stderr": "", "return_code": 0,
    "content": [
        {"type": "code_execution_output", "file_id": "file_chart"},
        {"type": "code_execution_output", "file_id": "file_gone"},
        {"type": "code_execution_output", "file_id": "file_chart"}
    ]}});
    let server = server(vec![message(
        "msg_1",
        json!([run, result, text("Here is the chart.")]),
        "end_turn",
    )])
    .await;
    server.add_file(ScriptedFile::new(
        "file_chart",
        "chart.png",
        "image/png",
        "PNG...",
    ));
    server.add_file(ScriptedFile::new("file_gone", "gone.csv", "text/csv", "x").expired());

    let params = params().user_with_files(
        "Chart it.",
        [ContentBlock::container_upload("file_upload_1")],
    );
    let mut runner = client(&server)
        .tool_runner(params, toolset![])
        .message_threads(false);
    while let Some(m) = runner.next().await {
        m.unwrap();
    }
    let sent = &server.requests()[0];
    assert_eq!(
        sent["messages"][1]["content"][1],
        json!({"type": "container_upload", "file_id": "file_upload_1"})
    );
    assert_eq!(
        server.recorded()[0].header("anthropic-beta"),
        Some("files-api-2025-04-14")
    );
    assert_eq!(
        runner.code_executions()[0].output_files(),
        ["file_chart", "file_gone", "file_chart"]
    );

    let dir = temp_dir("artifacts").join("out");
    let artifacts = runner.download_artifacts(&dir).await.unwrap();
    assert_eq!(artifacts.saved.len(), 1);
    assert_eq!(artifacts.saved[0].path, dir.join("chart.png"));
    assert_eq!(artifacts.saved[0].bytes, 6);
    assert_eq!(artifacts.saved[0].metadata.mime_type, "image/png");
    assert_eq!(artifacts.failed.len(), 1);
    assert_eq!(artifacts.failed[0].0, "file_gone");
    assert!(artifacts.failed[0].1.is_file_expired());
    assert!(!artifacts.is_complete());
    assert_eq!(names_in(&dir), ["chart.png"]);
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

/// Peak resident memory of this process, in KiB (Linux).
fn vm_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The child half of the memory test: does nothing unless run by it.
#[test]
fn memory_child_downloads_the_big_file() {
    let (Some(url), Some(path)) = (std::env::var_os(CHILD_URL), std::env::var_os(CHILD_PATH))
    else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = toolrunner::Client::builder()
        .api_key("test-key")
        .base_url(url.to_str().unwrap())
        .build()
        .unwrap();
    let before = vm_kib("VmRSS:").unwrap();
    let written = if std::env::var(CHILD_MODE).as_deref() == Ok("buffer") {
        let download = runtime
            .block_on(client.files().download("file_big"))
            .unwrap();
        let all: Vec<u8> = runtime
            .block_on(download.try_fold(Vec::new(), |mut all, chunk| async move {
                all.extend_from_slice(&chunk);
                Ok(all)
            }))
            .unwrap();
        all.len() as u64
    } else {
        runtime
            .block_on(client.files().download_to("file_big", PathBuf::from(path)))
            .unwrap()
    };
    let peak = vm_kib("VmHWM:").unwrap();
    // On a line of its own: the test harness prints on the same line.
    println!("\nMEMORY-CHILD before_kib={before} peak_kib={peak} written={written}");
}

/// Runs the child half of the memory test against `url`, downloading to
/// `path` (or into memory, in `mode` `buffer`); returns its RSS before the
/// download, its peak, and the bytes it got.
async fn measure_child(url: String, path: PathBuf, mode: &'static str) -> (u64, u64, u64) {
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--exact")
            .arg(support::test_name(
                module_path!(),
                "memory_child_downloads_the_big_file",
            ))
            .args(["--nocapture", "--test-threads=1"])
            .env(CHILD_URL, url)
            .env(CHILD_PATH, path)
            .env(CHILD_MODE, mode)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("MEMORY-CHILD ").map(|(_, report)| report))
        .unwrap_or_else(|| panic!("no report from the child: {stdout}"));
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    (field("before_kib"), field("peak_kib"), field("written"))
}

/// A 50 MB download goes to disk without the process's memory growing by
/// anything like 50 MB. Measured in a child process (this test binary, run
/// for the test above only) so that the server's copy of the file, held in
/// this process, does not count. A control run that collects the download
/// in memory shows the measurement sees 50 MB when they are held.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_download_streams_to_disk_with_flat_memory() {
    let server = files_server().await;
    let content: Vec<u8> = (0..BIG).map(pattern).collect();
    server.add_file(ScriptedFile::new(
        "file_big",
        "big.bin",
        "application/octet-stream",
        content,
    ));
    let dir = temp_dir("big");
    let path = dir.join("big.bin");

    let (before, peak, written) = measure_child(server.url(), path.clone(), "stream").await;
    eprintln!(
        "50 MB download to disk: RSS {before} KiB before, peak {peak} KiB (+{} KiB)",
        peak - before
    );
    assert_eq!(written, BIG as u64);
    // Holding the file would add 51 200 KiB; streaming adds a few buffers.
    assert!(
        peak - before < 16 * 1024,
        "peak grew by {} KiB",
        peak - before
    );

    let (b_before, b_peak, b_written) =
        measure_child(server.url(), dir.join("unused"), "buffer").await;
    eprintln!(
        "50 MB download into memory (control): RSS {b_before} KiB before, peak {b_peak} KiB (+{} KiB)",
        b_peak - b_before
    );
    assert_eq!(b_written, BIG as u64);
    assert!(
        b_peak - b_before > 40 * 1024,
        "the control grew by only {} KiB",
        b_peak - b_before
    );

    // Every byte landed where it belongs.
    use std::io::Read;
    let mut file = std::fs::File::open(&path).unwrap();
    let mut buf = vec![0; 1 << 20];
    let mut offset = 0;
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        assert!(
            buf[..n]
                .iter()
                .enumerate()
                .all(|(i, b)| *b == pattern(offset + i)),
            "at {offset}"
        );
        offset += n;
    }
    assert_eq!(offset, BIG);
    assert_eq!(names_in(&dir), ["big.bin"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn files_requests_are_retried_like_messages() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let api = MockServer::start().await;
    let overloaded =
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    Mock::given(method("GET"))
        .and(path("/v1/files/file_1"))
        .and(header("anthropic-beta", "files-api-2025-04-14"))
        .respond_with(
            ResponseTemplate::new(529)
                .set_body_json(&overloaded)
                .insert_header("retry-after-ms", "0"),
        )
        .up_to_n_times(1)
        .mount(&api)
        .await;
    let meta = json!({"type": "file", "id": "file_1", "filename": "a.csv", "mime_type": "text/csv",
        "size_bytes": 1, "created_at": "2025-04-14T12:00:00Z", "downloadable": true});
    Mock::given(method("GET"))
        .and(path("/v1/files/file_1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&meta))
        .mount(&api)
        .await;
    let client = toolrunner::Client::builder()
        .api_key("test-key")
        .base_url(api.uri())
        .max_retries(1)
        .build()
        .unwrap();
    assert_eq!(
        client.files().metadata("file_1").await.unwrap().filename,
        "a.csv"
    );
    assert_eq!(api.received_requests().await.unwrap().len(), 2);

    // Out of retries: the API's error, with its attempts and the file.
    let no_retries = toolrunner::Client::builder()
        .api_key("test-key")
        .base_url(api.uri())
        .max_retries(0)
        .build()
        .unwrap();
    Mock::given(method("GET"))
        .and(path("/v1/files/file_2"))
        .respond_with(
            ResponseTemplate::new(529)
                .set_body_json(&overloaded)
                .insert_header("request-id", "req_529"),
        )
        .mount(&api)
        .await;
    let e = no_retries.files().metadata("file_2").await.unwrap_err();
    assert!(e.is_api() && e.is_retryable(), "{e:?}");
    assert_eq!(e.api_error_type(), Some("overloaded_error"));
    assert_eq!(e.request_id(), Some("req_529"));
    assert_eq!(e.file_id(), Some("file_2"));
    assert_eq!(
        e.to_string(),
        "file `file_2`: API error 529 overloaded_error: Overloaded (request-id req_529)"
    );
}
