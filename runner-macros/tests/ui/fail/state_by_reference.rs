//! A reference to a type of the user's may be meant as state: the error
//! offers both fixes, a value read from JSON or `State<T>`.
use toolrunner::tool;

struct Db(Vec<String>);

/// Push an item.
#[tool]
fn push(db: &mut Db, item: String) -> usize {
    db.0.push(item);
    db.0.len()
}

/// Peek at the last item.
#[tool]
fn peek(db: &Db) -> Option<String> {
    db.0.last().cloned()
}

fn main() {}
