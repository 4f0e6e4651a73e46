//! Compile tests for `#[tool]` and `toolset!`: accepted forms build, and
//! each mistake fails with a message that says what to do, on the right token.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
