//! The kill-and-resume harness: `durable-child` (tests/src/bin) runs a
//! checkpointed run against a scripted server, first-party or a platform's,
//! is killed with SIGKILL where it stops on cue, and a new process resumes
//! it from its file store. Used by the durable-run tests and by each
//! platform's.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use toolrunner::testing::{Reply, ScriptedServer};

use super::kill;
pub use super::kill::{Ending, blocking, lines_per_key, path, temp_dir};
use super::{last_message, message, text, tool_use};

/// The checkpoints of the scripted run: a response with two calls, each
/// call, a response with one call, that call, the final answer, and the
/// end of the run.
pub const CHECKPOINTS: usize = 7;

/// The model's side of the kill tests: what it says depends on how far
/// the conversation is (never on how many requests came), so that a
/// request sent twice would be answered alike, and seen in the record.
/// How far is told by the results the last message carries, which a
/// request has whether it sends the whole history or continues a thread
/// (as on the AWS-hosted API, whose scripted server keeps no threads).
pub fn durable_model(request: &Value) -> Reply {
    let answered: Vec<&str> = last_message(request)["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b["tool_use_id"].as_str())
                .collect()
        })
        .unwrap_or_default();
    let append = |id: &str, word: &str| tool_use(id, "append", json!({"word": word}));
    let reply = if answered.contains(&"toolu_c") {
        message("msg_3", json!([text("All appended.")]), "end_turn")
    } else if answered.contains(&"toolu_a") {
        message("msg_2", json!([append("toolu_c", "c")]), "tool_use")
    } else {
        message(
            "msg_1",
            json!([append("toolu_a", "a"), append("toolu_b", "b")]),
            "tool_use",
        )
    };
    if request["stream"] == true {
        Reply::stream_message(&reply)
    } else {
        Reply::message(reply)
    }
}

/// A server a child runs against, kept alive while the test needs it.
pub trait Served: Send + Sync + 'static {
    /// The base URL the child is given.
    fn url(&self) -> String;
    /// The environment the child is started with: the platform and its
    /// settings. None for the first-party API.
    fn env(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// Every request body received, byte for byte, in order.
    fn bodies(&self) -> Vec<String>;
}

impl Served for ScriptedServer {
    fn url(&self) -> String {
        ScriptedServer::url(self)
    }

    fn bodies(&self) -> Vec<String> {
        self.recorded().into_iter().map(|r| r.body).collect()
    }
}

/// How a child is started, and where it is to stop for the kill.
pub struct Child<'a> {
    pub url: &'a str,
    pub dir: &'a Path,
    pub mode: &'a str,
    /// `(variable, value)`: where to stop; `None` to run to the end.
    pub pause: Option<(&'a str, String)>,
    /// More environment: the platform and its settings.
    pub env: &'a [(String, String)],
}

impl Child<'_> {
    /// Runs the child; when it says `wait_for`, kills it.
    pub fn run(&self, wait_for: Option<&str>) -> Ending {
        let mut command = Command::new(env!("CARGO_BIN_EXE_durable-child"));
        command
            .args([self.url, &path(&self.dir.join("store")), "order-7"])
            .arg(path(self.dir))
            .arg(self.mode)
            .env_remove("DURABLE_PAUSE_AT")
            .env_remove("DURABLE_PAUSE_IN")
            .env_remove("DURABLE_PLATFORM")
            // Only what the test gives: no credentials from this machine.
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_BEARER_TOKEN_BEDROCK")
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .env_remove("CLOUDSDK_CONFIG")
            .env_remove("GCE_METADATA_HOST")
            .env_remove("ANTHROPIC_CUSTOM_HEADERS")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some((name, value)) = &self.pause {
            command.env(name, value);
        }
        kill::run(command, wait_for)
    }
}

/// Runs a child in `mode` against `served` from the store in `dir`,
/// stopping at `pause` and killed when it says `wait_for`.
pub async fn run_child(
    served: &dyn Served,
    dir: &Path,
    mode: &'static str,
    pause: Option<(&'static str, String)>,
    wait_for: Option<String>,
) -> Ending {
    let (url, env, dir) = (served.url(), served.env(), dir.to_owned());
    blocking(move || {
        let child = Child {
            url: &url,
            dir: &dir,
            mode,
            pause,
            env: &env,
        };
        child.run(wait_for.as_deref())
    })
    .await
}

/// One uninterrupted run in a child against `served`: its conversation
/// and the request bodies the server received, byte for byte.
pub async fn uninterrupted(served: &dyn Served, mode: &'static str) -> (Value, Vec<String>) {
    let dir = temp_dir(&format!("straight-{mode}"));
    let Ending::Done(conversation) = run_child(served, &dir, mode, None, None).await else {
        panic!("a child without a pause runs to the end");
    };
    let _ = std::fs::remove_dir_all(&dir);
    (conversation, served.bodies())
}

/// Kills a run against `served` (fresh, its record empty) at checkpoint
/// `n`, resumes it in a new process, and checks it against the
/// uninterrupted run: each side effect once, the same conversation, and
/// the same requests, none sent twice.
pub async fn kill_at_checkpoint_and_resume(
    served: &dyn Served,
    mode: &'static str,
    n: usize,
    expected: &(Value, Vec<String>),
) {
    let dir = temp_dir(&format!("{mode}-{n}"));
    let pause = Some(("DURABLE_PAUSE_AT", n.to_string()));
    let killed = run_child(served, &dir, mode, pause, Some(format!("checkpoint {n}"))).await;
    assert!(matches!(killed, Ending::Killed), "checkpoint {n}");
    let answered = served.bodies().len();

    let Ending::Done(conversation) = run_child(served, &dir, mode, None, None).await else {
        panic!("the resumed child did not finish");
    };

    // Every call's side effect happened once.
    let once = vec![
        ("order-7:toolu_a".to_owned(), 1),
        ("order-7:toolu_b".to_owned(), 1),
        ("order-7:toolu_c".to_owned(), 1),
    ];
    let effects = lines_per_key(&dir.join("effects.log"));
    assert_eq!(effects, once, "killed at checkpoint {n}");
    let attempts = lines_per_key(&dir.join("attempts.log"));
    if mode == "concurrent" {
        // A call still running beside the one checkpointed was cut off
        // mid-flight, and ran again; no call ran more than that.
        assert!(
            attempts.iter().all(|(_, n)| (1..=2).contains(n)),
            "{attempts:?}"
        );
    } else {
        // One call at a time: none was in flight at a checkpoint, so each
        // ran exactly once.
        assert_eq!(attempts, once, "killed at checkpoint {n}");
    }
    // The same conversation as the run that was never killed.
    assert_eq!(conversation, expected.0, "killed at checkpoint {n}");
    // The same requests, byte for byte: those answered before the kill
    // were not sent again, and the resumed ones are those the run would
    // have sent.
    let bodies = served.bodies();
    assert_eq!(bodies.len(), expected.1.len(), "killed at checkpoint {n}");
    for (i, (got, want)) in bodies.iter().zip(&expected.1).enumerate() {
        let sent_by = if i < answered {
            "the killed child"
        } else {
            "the resumed child"
        };
        assert_eq!(
            got, want,
            "request {i}, sent by {sent_by}, killed at checkpoint {n}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
