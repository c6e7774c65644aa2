//! `TenantObject`, the Durable Object indexing one tenant's images and tasks in SQLite.
//!
//! Positions (`seq`) only grow (AUTOINCREMENT never reuses one), so "older than the cursor"
//! is stable however many items arrive between pages, and the `(status, seq)` index keeps a
//! filtered listing O(limit). Its fetch API is internal: the typed calls of [`super::protocol`],
//! made only by [`super::client`].

use super::feed::{self, Previous};
use super::page::{ListQuery, Page};
use super::protocol::IndexCall;
use super::schema::{BodyRow, Count, ItemRow, PrevRow, Sha, TaskRef, SCHEMA};
use super::usage::{self, Delta, OverQuota};
use super::{backfill, backup, pending, registry, reservations, retention};
use super::{ImageRow, ImageUsage, TaskRow};
use crate::clock::{now_iso, now_millis};
use crate::config::Config;
use crate::ids::{ImageId, TaskId, TenantId};
use crate::live::sockets;
use functions::placeholder::Placeholder;
use serde_json::{json, Value};
use worker::*;

#[durable_object]
pub struct TenantObject {
    state: State,
    env: Env,
}

impl DurableObject for TenantObject {
    fn new(state: State, env: Env) -> Self {
        for statement in SCHEMA
            .iter()
            .chain(&usage::SCHEMA)
            .chain(&reservations::SCHEMA)
            .chain(&retention::SCHEMA)
            .chain(&registry::SCHEMA)
            .chain(&pending::SCHEMA)
        {
            if let Err(e) = state.storage().sql().exec(statement, None) {
                crate::log::error("schema_failed").field("object", "tenant").field("error", e.to_string()).emit();
            }
        }
        sockets::auto_pong(&state);
        TenantObject { state, env }
    }

    sockets::socket_callbacks!("feed");

    /// Re-sends the analysis jobs still owed ([`pending`]); the object has no other alarm.
    async fn alarm(&self) -> Result<Response> {
        pending::resend_due(&self.state, &self.env).await?;
        Response::ok("checked")
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if req.path() == "/feed/ws" {
            return self.websocket(&req);
        }
        let tenant = req.headers().get(registry::TENANT_HEADER)?.and_then(|t| TenantId::parse(&t));
        let call: IndexCall = crate::objects::read_call(&mut req).await?;
        if call.writes() {
            registry::note(&self.sql(), &self.env, tenant.as_ref()).await;
        }
        match call {
            IndexCall::PutImage { row, quota, analysis_wait_ms } => {
                let (id, put) = (row.id.clone(), self.put_image(row, quota)?);
                if put.is_ok() {
                    pending::owe_after_put(&self.state, tenant.as_ref(), &id, analysis_wait_ms).await?;
                }
                Response::from_json(&put)
            }
            IndexCall::Reserve { task, bytes, quota } => {
                Response::from_json(&reservations::reserve(&self.sql(), task.as_str(), bytes, quota, now_millis())?)
            }
            IndexCall::ReleaseUnlisted(task) => Response::from_json(&reservations::release_unlisted(&self.sql(), task.as_str())?),
            IndexCall::Usage => Response::from_json(&usage::read(&self.sql())?),
            IndexCall::ListImages(query) => Response::from_json(&self.list("images", query)?),
            IndexCall::ImageUsage(id) => Response::from_json(&self.usage(&id)?),
            IndexCall::DeleteImage(id) => Response::from_json(&self.delete_image(&id)?),
            IndexCall::PutTask(row) => Response::from_json(&self.put_task(*row)?),
            IndexCall::ListTasks(query) => Response::from_json(&self.list("tasks", query)?),
            IndexCall::SetPlaceholder(id, placeholder) => Response::from_json(&self.set_placeholder(&id, &placeholder)?),
            IndexCall::AnalysisSettled(id) => Response::from_json(&pending::settle(&self.sql(), &id)?),
            IndexCall::AnalysisSendFailed(id) => Response::from_json(&pending::send_failed(&self.state, &id).await?),
            IndexCall::ExpiryCandidates { before, limit } => Response::from_json(&retention::candidates(&self.sql(), &before, limit)?),
            IndexCall::UnsharedResults { task, keys } => Response::from_json(&retention::unshared(&self.sql(), task.as_str(), &keys)?),
            IndexCall::MarkExpired { task, at } => Response::from_json(&retention::mark(&self.sql(), task.as_str(), &at)?),
            IndexCall::Export { table, after, limit } => Response::from_json(&backup::export(&self.sql(), table, after, limit)?),
            IndexCall::Restore { lines, wipe } => Response::from_json(&backup::restore(&self.sql(), &lines, wipe)?),
            IndexCall::Seed(count) => Response::from_json(&self.seed(count)?),
            IndexCall::RecomputeUsage => Response::from_json(&backfill::recompute(&self.sql())?),
        }
    }
}

impl TenantObject {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    /// Indexes an original and counts it, unless it would pass the quota beside what is stored
    /// and reserved for running tasks. The object runs one call at a time, so the check and the
    /// count cannot interleave with another upload's or a task's admission.
    fn put_image(&self, row: ImageRow, quota: Option<u64>) -> Result<std::result::Result<(), OverQuota>> {
        let sql = self.sql();
        let known = sql.exec("SELECT COUNT(*) AS n FROM images WHERE id = ?", vec![row.id.as_str().into()])?.one::<Count>()?.n > 0;
        if known {
            return Ok(Ok(()));
        }
        let now = usage::read(&sql)?;
        if let Err(over) = usage::admit(now.bytes_stored, now.reserved, row.bytes, quota) {
            return Ok(Err(over));
        }
        let body = serde_json::to_string(&row.body)?;
        sql.exec(
            "INSERT INTO images (id, sha256, body) VALUES (?, ?, ?)",
            vec![row.id.as_str().into(), row.sha256.as_str().into(), body.as_str().into()],
        )?;
        usage::add(&sql, Delta { images: 1, bytes_stored: i64::try_from(row.bytes).unwrap_or(i64::MAX), ..Delta::default() })?;
        Ok(Ok(()))
    }

    /// Sets the image's placeholder in its listed object and announces it; only an existing
    /// row changes (a deleted image stays deleted), and a repeat of the same value (a
    /// redelivered job) announces nothing.
    fn set_placeholder(&self, id: &ImageId, placeholder: &Placeholder) -> Result<bool> {
        let rows: Vec<BodyRow> = self.sql().exec("SELECT body FROM images WHERE id = ?", vec![id.as_str().into()])?.to_array()?;
        let Some(row) = rows.into_iter().next() else { return Ok(false) };
        pending::settle(&self.sql(), id)?;
        let mut body: Value = serde_json::from_str(&row.body)?;
        // Restores check that bodies are objects; this must not panic if one is not.
        let Some(fields) = body.as_object_mut() else { return Err(Error::RustError(format!("image {id}: its row is not an object"))) };
        let value = serde_json::to_value(placeholder)?;
        if fields.get("placeholder") == Some(&value) {
            return Ok(true);
        }
        fields.insert("placeholder".into(), value);
        self.sql().exec("UPDATE images SET body = ? WHERE id = ?", vec![body.to_string().as_str().into(), id.as_str().into()])?;
        self.publish(feed::analyzed(id, placeholder, &now_iso()))?;
        Ok(true)
    }

    fn put_task(&self, row: TaskRow) -> Result<()> {
        let sql = self.sql();
        let previous = self.previous(&row.id)?;
        let known = previous.is_some();
        let kinds = feed::kinds(previous.as_ref(), &row.status, row.version, &row.body["progress"]);
        let body = serde_json::to_string(&row.body)?;
        // Updates may arrive out of order: only a newer version replaces the snapshot.
        sql.exec(
            "INSERT INTO tasks (id, status, version, body) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET \
             status = excluded.status, version = excluded.version, body = excluded.body WHERE excluded.version > tasks.version",
            vec![row.id.as_str().into(), row.status.as_str().into(), (row.version as i64).into(), body.as_str().into()],
        )?;
        let was_terminal = previous.as_ref().is_some_and(|p| feed::is_terminal(&p.status));
        let newer = previous.as_ref().is_none_or(|p| row.version > p.version);
        if !known {
            usage::add(&sql, Delta { tasks: 1, ..Delta::default() })?;
        }
        if newer && !was_terminal && feed::is_terminal(&row.status) {
            usage::charge_task(&sql, row.id.as_str(), &row.status, row.charge)?;
        }
        // Its real bytes replace its planned bound once it ended.
        reservations::follow(&sql, row.id.as_str(), feed::is_terminal(&row.status), now_millis())?;
        retention::note_results(&sql, row.id.as_str(), &row.results)?;
        if !known {
            for image in &row.images {
                sql.exec(
                    "INSERT OR IGNORE INTO task_images (image, task) VALUES (?, ?)",
                    vec![image.as_str().into(), row.id.as_str().into()],
                )?;
            }
        }
        let at = now_iso();
        for kind in kinds {
            self.publish(feed::event(kind, &row.body, &at))?;
        }
        Ok(())
    }

    fn previous(&self, id: &TaskId) -> Result<Option<Previous>> {
        let rows: Vec<PrevRow> =
            self.sql().exec("SELECT status, version, body FROM tasks WHERE id = ?", vec![id.as_str().into()])?.to_array()?;
        Ok(rows.into_iter().next().map(|r| Previous {
            status: r.status,
            version: r.version as u64,
            progress: serde_json::from_str::<Value>(&r.body).map(|b| b["progress"].clone()).unwrap_or_default(),
        }))
    }

    /// Appends a feed event with the next `seq`, trims the oldest beyond the retention and
    /// pushes it to every feed socket.
    fn publish(&self, mut event: Value) -> Result<()> {
        let sql = self.sql();
        let seq = sql.exec("SELECT COALESCE(MAX(seq), 0) AS n FROM feed", None)?.one::<Count>()?.n + 1;
        event["seq"] = seq.into();
        let body = event.to_string();
        sql.exec("INSERT INTO feed (seq, body) VALUES (?, ?)", vec![seq.into(), body.as_str().into()])?;
        sql.exec("DELETE FROM feed WHERE seq <= ?", vec![(seq - feed::RETAINED).into()])?;
        sockets::broadcast(&self.state, &body);
        Ok(())
    }

    /// The feed socket: every retained event after `since`, then live. The feed never ends.
    fn websocket(&self, req: &Request) -> Result<Response> {
        let since = req.url()?.query_pairs().find(|(k, _)| k == "since").and_then(|(_, v)| v.parse::<i64>().ok()).unwrap_or(0);
        let rows: Vec<BodyRow> = self.sql().exec("SELECT body FROM feed WHERE seq > ? ORDER BY seq", vec![since.into()])?.to_array()?;
        let backlog: Vec<String> = rows.into_iter().map(|r| r.body).collect();
        let cap = Config::from_env(&self.env).map(|c| c.max_sockets_per_stream).unwrap_or(1000);
        sockets::accept(&self.state, &backlog, false, cap)
    }

    /// One page, newest first. `table` is one of two literals, never user input.
    fn list(&self, table: &str, query: ListQuery) -> Result<Page> {
        let before = query.before.unwrap_or(i64::MAX);
        // One row more than asked tells whether another page follows.
        let fetch = i64::from(query.limit) + 1;
        let rows: Vec<ItemRow> = match &query.status {
            Some(status) if table == "tasks" => self
                .sql()
                .exec(
                    "SELECT seq, body FROM tasks WHERE status = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                    vec![status.as_str().into(), before.into(), fetch.into()],
                )?
                .to_array()?,
            _ => self
                .sql()
                .exec(&format!("SELECT seq, body FROM {table} WHERE seq < ? ORDER BY seq DESC LIMIT ?"), vec![before.into(), fetch.into()])?
                .to_array()?,
        };
        let more = rows.len() > query.limit as usize;
        let rows = &rows[..rows.len().min(query.limit as usize)];
        let items = rows.iter().map(|r| serde_json::from_str(&r.body)).collect::<serde_json::Result<Vec<Value>>>()?;
        let next = if more { rows.last().map(|r| r.seq) } else { None };
        Ok(Page { items, next })
    }

    /// What deleting the image must remove; `None` when the tenant has no such image.
    fn usage(&self, id: &ImageId) -> Result<Option<ImageUsage>> {
        let sql = self.sql();
        let id = id.as_str();
        let Some(Sha { sha256 }) = sql.exec("SELECT sha256 FROM images WHERE id = ?", vec![id.into()])?.to_array::<Sha>()?.pop() else {
            return Ok(None);
        };
        let others = sql
            .exec("SELECT COUNT(*) AS n FROM images WHERE sha256 = ? AND id != ?", vec![sha256.as_str().into(), id.into()])?
            .one::<Count>()?
            .n;
        let tasks: Vec<TaskRef> = sql.exec("SELECT task FROM task_images WHERE image = ?", vec![id.into()])?.to_array()?;
        let tasks = tasks.into_iter().filter_map(|t| TaskId::parse(&t.task).ok()).collect();
        Ok(Some(ImageUsage { sha256, bytes_shared: others > 0, tasks }))
    }

    /// Unindexes the image and releases what it and the tasks that used it stored (the delete
    /// cascade removed the original, its results and those tasks' zips).
    fn delete_image(&self, id: &ImageId) -> Result<()> {
        let sql = self.sql();
        let rows: Vec<BodyRow> = sql.exec("SELECT body FROM images WHERE id = ?", vec![id.as_str().into()])?.to_array()?;
        let Some(row) = rows.into_iter().next() else { return Ok(()) };
        let bytes = serde_json::from_str::<Value>(&row.body)?["bytes"].as_i64().unwrap_or(0);
        let tasks: Vec<TaskRef> = sql.exec("SELECT task FROM task_images WHERE image = ?", vec![id.as_str().into()])?.to_array()?;
        usage::release_tasks(&sql, &tasks.into_iter().map(|t| t.task).collect::<Vec<_>>())?;
        usage::add(&sql, Delta { images: -1, bytes_stored: -bytes, ..Delta::default() })?;
        sql.exec("DELETE FROM images WHERE id = ?", vec![id.as_str().into()])?;
        sql.exec("DELETE FROM task_images WHERE image = ?", vec![id.as_str().into()])?;
        pending::settle(&sql, id)?;
        Ok(())
    }

    /// Benchmark only (the API serves it behind `BENCH_ROUTES`): `count` synthetic images.
    fn seed(&self, count: u32) -> Result<()> {
        let sql = self.sql();
        for _ in 0..count {
            let id = ImageId::generate().map_err(|e| Error::RustError(e.to_string()))?;
            let body = json!({"id": id, "name": "seed.png", "content_type": "image/png", "format": "png", "width": 1, "height": 1,
                              "bytes": 67, "sha256": id.as_str(), "created_at": "2026-01-01T00:00:00.000Z"})
            .to_string();
            sql.exec(
                "INSERT INTO images (id, sha256, body) VALUES (?, ?, ?)",
                vec![id.as_str().into(), id.as_str().into(), body.as_str().into()],
            )?;
        }
        Ok(())
    }
}
