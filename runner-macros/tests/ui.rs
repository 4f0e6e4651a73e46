//! Compile tests for `#[tool]` and `toolset!`: accepted forms build, and
//! each mistake fails with a message that says what to do, on the right token.
//!
//! They live next to the macros rather than in the `tests` package because
//! trybuild builds its cases against the dev-dependencies of the package
//! whose test it is: here, toolrunner with its default features only, not
//! every feature the end-to-end tests need.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
