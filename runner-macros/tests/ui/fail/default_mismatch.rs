use toolrunner::tool;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Config {
    verbose: bool,
}

/// Configure.
#[tool]
fn configure(#[tool(default)] config: Config, #[tool(default = "ten")] limit: u32) -> u32 {
    let _ = config.verbose;
    limit
}

fn main() {}
