//! The file store: atomic saves, run ids that stay in their directory.

use super::*;

fn state() -> RunState {
    let params = crate::MessageParams::new("m", 10).user("hi");
    crate::runner::lifecycle::Lifecycle::new(params, crate::Toolset::new()).state()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "toolrunner-store-{name}-{}-{:x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn run_ids_cannot_leave_the_directory() {
    for bad in [
        "", ".", "..", "../x", "a/b", "a\\b", ".hidden", "a b", "é", "x\0",
    ] {
        let error = RunId::new(bad).unwrap_err();
        assert!(error.is_run_state(), "{bad:?}");
        assert!(error.to_string().starts_with("invalid run id "), "{error}");
    }
    assert!(RunId::new("x".repeat(129)).is_err());
    for good in ["a", "order-7", "run_1.2", &"x".repeat(128)] {
        assert_eq!(RunId::new(good).unwrap().as_str(), good);
    }
    assert_eq!("ok-1".parse::<RunId>().unwrap().to_string(), "ok-1");
}

#[tokio::test]
async fn a_save_replaces_the_file_whole_and_leaves_no_temporary_file() {
    let dir = temp_dir("save");
    let store = FileStore::new(&dir);
    let run = RunId::new("run-1").unwrap();
    assert_eq!(store.load(&run).await.unwrap(), None);

    let first = state();
    store.save(&run, &first).await.unwrap();
    assert_eq!(store.load(&run).await.unwrap(), Some(first.clone()));

    let mut second = first.clone();
    second.saved.iterations = 7;
    store.save(&run, &second).await.unwrap();
    assert_eq!(store.load(&run).await.unwrap().unwrap().iterations(), 7);

    // Only the run's file: every temporary file was renamed into place.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["run-1.json"]);

    store.delete(&run).await.unwrap();
    assert_eq!(store.load(&run).await.unwrap(), None);
    // Deleting what is not there is fine.
    store.delete(&run).await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_temporary_file_left_by_a_crash_is_never_read_as_the_run() {
    let dir = temp_dir("crash");
    let store = FileStore::new(&dir);
    let run = RunId::new("run-1").unwrap();
    store.save(&run, &state()).await.unwrap();
    // A process killed mid-write leaves a partial temporary file behind.
    std::fs::write(
        dir.join(".run-1.json.00000000000000ff.tmp"),
        b"{\"format_ver",
    )
    .unwrap();
    assert_eq!(store.load(&run).await.unwrap(), Some(state()));
    // Saving again still works, and the leftover never takes the run's place.
    store.save(&run, &state()).await.unwrap();
    assert_eq!(store.load(&run).await.unwrap(), Some(state()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_damaged_file_is_an_error_not_an_empty_run() {
    let dir = temp_dir("damaged");
    std::fs::create_dir_all(&dir).unwrap();
    let store = FileStore::new(&dir);
    let run = RunId::new("run-1").unwrap();
    std::fs::write(store.path(&run), b"{\"format_version\": 1, \"run\": ").unwrap();
    let error = store.load(&run).await.unwrap_err();
    assert!(error.is_run_state(), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_save_into_a_path_that_is_a_file_is_an_io_error_naming_it() {
    let dir = temp_dir("notadir");
    std::fs::write(&dir, b"a file").unwrap();
    let store = FileStore::new(&dir);
    let error = store
        .save(&RunId::new("r").unwrap(), &state())
        .await
        .unwrap_err();
    assert!(error.is_io(), "{error}");
    assert_eq!(error.path(), Some(dir.as_path()));
    let _ = std::fs::remove_file(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_racing_for_one_run_leave_one_whole_state() {
    let dir = temp_dir("race");
    let store = std::sync::Arc::new(FileStore::new(&dir));
    let run = RunId::new("run-1").unwrap();
    let saves: Vec<_> = (0..16)
        .map(|i| {
            let (store, run) = (store.clone(), run.clone());
            let mut state = state();
            state.saved.iterations = i;
            tokio::spawn(async move { store.save(&run, &state).await })
        })
        .collect();
    for save in saves {
        save.await.unwrap().unwrap();
    }
    // Each save had its own temporary file: one of them won, whole.
    let kept = store.load(&run).await.unwrap().unwrap();
    assert!(kept.iterations() < 16);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn the_temporary_file_of_a_save_is_owner_only_before_a_byte_is_written() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("temp-mode");
    make_dir(&dir).unwrap();
    let temp = dir.join(".run-1.json.0000000000000001.tmp");
    // The call `write_atomically` opens its temporary file with.
    let file = owner_only::create_new_file(&temp).unwrap();
    let mode = file.metadata().unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(file.metadata().unwrap().len(), 0);
    // Never an existing file (or a link planted at its name) reopened.
    assert_eq!(
        owner_only::create_new_file(&temp).unwrap_err().kind(),
        std::io::ErrorKind::AlreadyExists
    );
    let _ = std::fs::remove_dir_all(&dir);
}
