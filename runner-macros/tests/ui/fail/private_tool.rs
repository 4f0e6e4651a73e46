//! A tool that is not `pub`, listed from another module: the error is about
//! the function, which must be `pub` (or visible where it is listed).
use toolrunner::toolset;

mod admin {
    use toolrunner::tool;

    /// Reset the database.
    #[tool]
    fn reset() -> String {
        "reset".into()
    }
}

fn main() {
    let _ = toolset![admin::reset];
}
