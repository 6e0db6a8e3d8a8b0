//! Compile-time diagnostics of `#[service]` and `#[derive(ApplicationError)]`, checked with
//! trybuild: `tests/ui/pass` must compile, each file of `tests/ui/fail` makes one mistake (a few
//! make several, to show how they are reported together) and its `.stderr` is exactly what a user
//! sees. Regenerate with
//! `TRYBUILD=overwrite cargo test -p wampkit-macros --test ui` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/**/*.rs");
}
