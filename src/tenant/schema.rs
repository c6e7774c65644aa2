//! The tenant index's own tables (the other modules of [`super`] add theirs) and the rows the
//! object reads back from them.

use serde::Deserialize;

pub(super) const SCHEMA: [&str; 6] = [
    "CREATE TABLE IF NOT EXISTS images (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, sha256 TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS images_by_sha ON images (sha256)",
    "CREATE TABLE IF NOT EXISTS tasks (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, status TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (status, seq)",
    "CREATE TABLE IF NOT EXISTS task_images (image TEXT NOT NULL, task TEXT NOT NULL, PRIMARY KEY (image, task))",
    "CREATE TABLE IF NOT EXISTS feed (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)",
];

#[derive(Deserialize)]
pub(super) struct ItemRow {
    pub(super) seq: i64,
    pub(super) body: String,
}

#[derive(Deserialize)]
pub(super) struct PrevRow {
    pub(super) status: String,
    pub(super) version: i64,
    pub(super) body: String,
}

#[derive(Deserialize)]
pub(super) struct BodyRow {
    pub(super) body: String,
}

#[derive(Deserialize)]
pub(super) struct Count {
    pub(super) n: i64,
}

#[derive(Deserialize)]
pub(super) struct Sha {
    pub(super) sha256: String,
}

#[derive(Deserialize)]
pub(super) struct TaskRef {
    pub(super) task: String,
}
