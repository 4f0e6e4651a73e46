//! Compile tests for `#[tool]` and `toolset!`: accepted forms build, and
//! each mistake fails with a message that says what to do, on the right token.
//!
//! They live next to the macros rather than in the `tests` package because
//! trybuild builds its cases against the dev-dependencies of the package
//! whose test it is: here, toolrunner with its default features only, not
//! every feature the end-to-end tests need.

#[test]
fn ui() {
    // trybuild builds the cases in a project of its own, which has none of
    // the workspace's profile settings: with cargo's default full debug info
    // its dependencies and the accepted cases' binaries took 2.4 GB of disk,
    // for binaries nobody debugs. The cargo it runs reads this variable.
    // SAFETY: the one test of this binary sets it before trybuild starts
    // any thread or process, and nothing else reads the environment then.
    unsafe { std::env::set_var("CARGO_PROFILE_DEV_DEBUG", "false") };
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
