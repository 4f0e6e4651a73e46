use toolrunner::tool;

struct Answer(u32);

/// Answer.
#[tool]
fn answer() -> Answer {
    Answer(42)
}

/// Answer, maybe.
#[tool]
async fn maybe_answer() -> Result<Answer, String> {
    Ok(Answer(42))
}

fn main() {}
