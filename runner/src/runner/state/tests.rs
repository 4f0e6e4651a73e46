//! Run states as kept: versions, and their shape on disk.

use serde_json::{Value, json};

use super::*;

fn state() -> RunState {
    let core = crate::runner::lifecycle::Lifecycle::new(
        MessageParams::new("m", 10).user("hi").beta("b-1"),
        crate::Toolset::new(),
    );
    core.state()
}

#[test]
fn a_state_carries_its_format_version_and_round_trips() {
    let state = state();
    let json: Value = serde_json::from_slice(&state.to_json().unwrap()).unwrap();
    assert_eq!(json["format_version"], json!(RunState::FORMAT_VERSION));
    // The betas, which the request body leaves out, are kept.
    assert_eq!(json["run"]["params"]["betas"], json!(["b-1"]));
    let back = RunState::from_json(json.to_string().as_bytes()).unwrap();
    assert_eq!(back, state);
    // Through any serde format reading values, the same.
    let again: RunState = serde_json::from_value(json).unwrap();
    assert_eq!(again, state);
}

#[test]
fn fallback_models_are_kept_and_a_state_without_them_loads() {
    let mut core = crate::runner::lifecycle::Lifecycle::new(
        MessageParams::new("m", 10).user("hi"),
        crate::Toolset::new(),
    );
    core.set_fallback_models(vec!["b".into(), "c".into()]);
    let mut json: Value = serde_json::from_slice(&core.state().to_json().unwrap()).unwrap();
    assert_eq!(json["run"]["fallbacks"], json!({"models": ["b", "c"]}));
    let kept = RunState::from_json(json.to_string().as_bytes()).unwrap();
    assert_eq!(kept.saved.fallbacks, *core.fallbacks());
    // A state written before the list was kept: no fallback models.
    json["run"].as_object_mut().unwrap().remove("fallbacks");
    let older = RunState::from_json(json.to_string().as_bytes()).unwrap();
    assert!(older.saved.fallbacks.is_off());
    // A state with none leaves the field out.
    let none: Value = serde_json::from_slice(&state().to_json().unwrap()).unwrap();
    assert_eq!(none["run"].get("fallbacks"), None);
}

#[test]
fn a_state_of_another_version_is_refused_naming_both() {
    let mut json: Value = serde_json::from_slice(&state().to_json().unwrap()).unwrap();
    json["format_version"] = json!(2);
    // Its shape may differ in any way: the version is what is reported.
    json["run"] = json!({"something": "else"});
    let error = RunState::from_json(json.to_string().as_bytes()).unwrap_err();
    assert!(error.is_run_state());
    assert_eq!(
        error.to_string(),
        "the run state has format version 2, and this build of toolrunner reads format version 1"
    );
    let error = serde_json::from_value::<RunState>(json).unwrap_err();
    assert!(error.to_string().contains("format version 2"));
}

#[test]
fn what_is_not_a_state_says_so() {
    let error = RunState::from_json(br#"{"run": {}}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "not a run state: it has no `format_version`"
    );
    let error = RunState::from_json(b"[1, 2").unwrap_err();
    assert!(error.is_run_state());
    assert!(
        error
            .to_string()
            .starts_with("could not read the run state: ")
    );
    let mut json: Value = serde_json::from_slice(&state().to_json().unwrap()).unwrap();
    json["run"]["iterations"] = json!("many");
    let error = RunState::from_json(json.to_string().as_bytes()).unwrap_err();
    assert!(error.to_string().contains("at `iterations`"), "{error}");
}

#[test]
fn approving_without_a_deferred_call_names_the_call() {
    let mut state = state();
    let error = state.approve("toolu_1").unwrap_err();
    assert!(error.is_run_state());
    assert_eq!(
        error.to_string(),
        "no call `toolu_1` waits for approval in this run state (waiting: none)"
    );
    assert!(state.deny("toolu_1", "no").is_err());
}
