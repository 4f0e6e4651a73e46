use std::rc::Rc;

use toolrunner::tool;

/// Count.
#[tool]
async fn count() -> usize {
    let rc = Rc::new(1);
    tokio::task::yield_now().await;
    *rc
}

fn main() {}
