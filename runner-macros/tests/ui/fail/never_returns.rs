use toolrunner::tool;

/// Loop forever.
#[tool]
fn spin() -> ! {
    loop {}
}

fn main() {}
