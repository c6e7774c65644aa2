//! The tenant index's side of backups: every row of its tables as typed lines (exported a page
//! at a time, written by `crate::backup` as NDJSON), and a restore that replaces the index with
//! such lines, positions (`seq`) included, so listings and their cursors come back unchanged.
//! The live feed is not backed up: it is a replay buffer, not a record.

use serde::{Deserialize, Serialize};
use worker::{Result, SqlStorage};

/// One row of one table. Bodies stay the JSON text they are stored as, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "table", rename_all = "snake_case")]
pub enum Line {
    Images { seq: i64, id: String, sha256: String, body: String },
    Tasks { seq: i64, id: String, status: String, version: i64, body: String },
    TaskImages { image: String, task: String },
    TaskCharges { task: String, bytes: i64 },
    TaskResults { task: String, key: String },
    Expired { task: String, at: String },
    Usage { images: i64, bytes_stored: i64, tasks: i64, succeeded: i64, failed: i64, steps_run: i64, step_ms: i64 },
}

/// The tables a backup holds, in the order they are exported and restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    Images,
    Tasks,
    TaskImages,
    TaskCharges,
    TaskResults,
    Expired,
    Usage,
}

pub const TABLES: [Table; 7] =
    [Table::Images, Table::Tasks, Table::TaskImages, Table::TaskCharges, Table::TaskResults, Table::Expired, Table::Usage];

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Images => "images",
            Table::Tasks => "tasks",
            Table::TaskImages => "task_images",
            Table::TaskCharges => "task_charges",
            Table::TaskResults => "task_results",
            Table::Expired => "expired",
            Table::Usage => "usage",
        }
    }

    fn columns(self) -> &'static str {
        match self {
            Table::Images => "seq, id, sha256, body",
            Table::Tasks => "seq, id, status, version, body",
            Table::TaskImages => "image, task",
            Table::TaskCharges => "task, bytes",
            Table::TaskResults => "task, key",
            Table::Expired => "task, at",
            Table::Usage => "images, bytes_stored, tasks, succeeded, failed, steps_run, step_ms",
        }
    }
}

impl Line {
    /// Whether the line can be written back as it is: an image's or task's body must be a
    /// JSON object, as every reader of the index takes it to be (a backup is a file an
    /// operator can edit; a restore must not plant a row that breaks the tenant's index).
    pub fn check(&self) -> std::result::Result<(), String> {
        let (table, body) = match self {
            Line::Images { body, .. } => ("images", body),
            Line::Tasks { body, .. } => ("tasks", body),
            _ => return Ok(()),
        };
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(_)) => Ok(()),
            _ => Err(format!("a row of {table} whose body is not a JSON object")),
        }
    }
}

/// A page of exported rows: `(rowid, line)`, the next page starting after the last rowid.
pub fn export(sql: &SqlStorage, table: Table, after: i64, limit: u32) -> Result<Vec<(i64, Line)>> {
    let query = format!("SELECT rowid AS r, {} FROM {} WHERE rowid > ? ORDER BY rowid LIMIT ?", table.columns(), table.name());
    let cursor = sql.exec(&query, vec![after.into(), i64::from(limit).into()])?;
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = cursor.to_array()?;
    rows.into_iter()
        .map(|mut row| {
            let rowid = row.remove("r").and_then(|r| r.as_i64()).unwrap_or(0);
            row.insert("table".into(), serde_json::to_value(table).map_err(|e| worker::Error::RustError(e.to_string()))?);
            let line: Line = serde_json::from_value(serde_json::Value::Object(row)).map_err(|e| worker::Error::RustError(e.to_string()))?;
            Ok((rowid, line))
        })
        .collect()
}

/// Empties every table a backup holds (the start of a restore).
fn wipe(sql: &SqlStorage) -> Result<()> {
    for table in TABLES {
        sql.exec(&format!("DELETE FROM {}", table.name()), None)?;
    }
    // The counters' one row exists from the start; a backup's `usage` line replaces it.
    sql.exec(super::usage::SCHEMA[1], None)?;
    Ok(())
}

/// Writes restored lines as they were, first emptying the tables when `wipe`.
pub fn restore(sql: &SqlStorage, lines: &[Line], wipe_first: bool) -> Result<()> {
    if wipe_first {
        wipe(sql)?;
    }
    for line in lines {
        let (table, values): (Table, Vec<worker::SqlStorageValue>) = match line.clone() {
            Line::Images { seq, id, sha256, body } => (Table::Images, vec![seq.into(), id.into(), sha256.into(), body.into()]),
            Line::Tasks { seq, id, status, version, body } => {
                (Table::Tasks, vec![seq.into(), id.into(), status.into(), version.into(), body.into()])
            }
            Line::TaskImages { image, task } => (Table::TaskImages, vec![image.into(), task.into()]),
            Line::TaskCharges { task, bytes } => (Table::TaskCharges, vec![task.into(), bytes.into()]),
            Line::TaskResults { task, key } => (Table::TaskResults, vec![task.into(), key.into()]),
            Line::Expired { task, at } => (Table::Expired, vec![task.into(), at.into()]),
            Line::Usage { images, bytes_stored, tasks, succeeded, failed, steps_run, step_ms } => (
                Table::Usage,
                vec![images.into(), bytes_stored.into(), tasks.into(), succeeded.into(), failed.into(), steps_run.into(), step_ms.into()],
            ),
        };
        let marks = vec!["?"; values.len()].join(", ");
        let insert = format!("INSERT OR REPLACE INTO {} ({}) VALUES ({marks})", table.name(), table.columns());
        let insert =
            if table == Table::Usage { insert.replace("(images,", "(id, images,").replace("VALUES (", "VALUES (1, ") } else { insert };
        sql.exec(&insert, values)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_its_table_and_round_trips() {
        let line = Line::Images { seq: 7, id: "img_1".into(), sha256: "ab".into(), body: "{\"id\":\"img_1\"}".into() };
        let text = serde_json::to_string(&line).expect("ser");
        assert!(text.starts_with("{\"table\":\"images\""), "{text}");
        assert_eq!(serde_json::from_str::<Line>(&text).expect("de"), line);
    }

    #[test]
    fn a_row_whose_body_is_not_an_object_is_refused() {
        let row = |body: &str| Line::Tasks { seq: 1, id: "task_1".into(), status: "queued".into(), version: 1, body: body.into() };
        assert_eq!(row("{\"id\":\"task_1\"}").check(), Ok(()));
        for body in ["[1,2]", "7", "\"text\"", "null", "{not json"] {
            assert!(row(body).check().is_err_and(|e| e.contains("tasks")), "{body}");
        }
    }
}
