// History panel: GET /tasks (newest first, status filter, load more), kept current by the tenant feed.
import { connectFeed } from "/studio-client.js";
import { api } from "./api.js";
import { h, $, when, guard, reporter } from "./dom.js";

const PAGE = 20;
const rows = new Map(); // task id → {id, status, progress, created_at}
let cursor = null;
let feed = null;
let onOpen = () => {};
let onImage = () => {};

/** `open(task id)` follows a task; `image(event)` gets the feed's image events (`image.analyzed`). */
export function initHistory({ open, image }) {
  onOpen = open;
  onImage = image;
  const report = reporter($("feed-state"));
  $("history-filter").addEventListener("change", guard(() => load(true), report));
  $("history-more").addEventListener("click", guard(() => load(false), report));
}

const filter = () => $("history-filter").value;

export async function load(reset = true) {
  if (reset) {
    rows.clear();
    cursor = null;
  }
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (cursor) query.set("cursor", cursor);
  if (filter()) query.set("status", filter());
  const page = await api(`/tasks?${query}`);
  for (const t of page.items) rows.set(t.id, summary(t));
  cursor = page.next_cursor;
  render();
  if (!feed) follow(page.links);
}

/** Back online: the listing again and a fresh feed, rather than waiting for the feed's backoff. */
export function restart() {
  if (!feed) return Promise.resolve();
  feed.close();
  feed = null;
  return load(true);
}

export function stop() {
  feed?.close();
  feed = null;
  rows.clear();
  pending.clear();
  cursor = null;
  render();
}

const summary = (t) => ({ id: t.id, status: t.status, progress: t.progress, created_at: t.created_at });

// The feed replays from seq 0 (its latest seq is not known here): events of listed tasks end at
// their latest state; any other task makes the first page be read again (at most every 500 ms).
function follow(links) {
  // connectFeed reports "connecting" before it returns: compare with a marker set beforehand.
  const mine = {};
  feed = mine;
  const stream = connectFeed(links, {
    // The feed also carries image events; only task events belong to the history.
    onEvent: (event) => feed === mine && (event.type?.startsWith("image.") ? onImage(event) : update(event)),
    onState: (state, detail) => {
      if (feed !== mine) return;
      $("feed-state").textContent = state === "open" ? "live" : state === "reconnecting" ? `reconnecting (attempt ${detail.attempt})…` : "";
    },
    refreshLinks: async () => (await api("/tasks?limit=1")).links,
  });
  mine.close = () => stream.close();
  if (feed !== mine) stream.close(); // stopped while connecting
}

// The listing can lag a moment behind the feed: the last event seen of a task not yet listed wins.
const pending = new Map(); // task id → its last feed event

function update(event) {
  const known = rows.get(event.task);
  if (!known) {
    pending.set(event.task, event);
    return refreshSoon();
  }
  Object.assign(known, { status: event.status, progress: event.progress });
  render();
}

let refreshing = null;
function refreshSoon() {
  refreshing ??= setTimeout(async () => {
    try {
      if (!feed) return; // signed out meanwhile
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (filter()) query.set("status", filter());
      const page = await api(`/tasks?${query}`);
      for (const t of page.items.filter((t) => !rows.has(t.id))) {
        const last = pending.get(t.id);
        rows.set(t.id, summary(last ? { ...t, status: last.status, progress: last.progress } : t));
      }
      render();
    } catch (err) {
      if (err.status !== 401) $("feed-state").textContent = err.message;
    } finally {
      refreshing = null;
    }
  }, 500);
}

function render() {
  const list = $("history");
  const visible = [...rows.values()]
    .filter((r) => !filter() || r.status === filter())
    .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  list.replaceChildren(...visible.map(row));
  if (!visible.length) list.append(h("li", { class: "help" }, "No tasks yet."));
  $("history-more").hidden = !cursor;
}

function row(t) {
  const { done = 0, total = 0 } = t.progress ?? {};
  return h(
    "li",
    { class: "task-row", "data-task": t.id, "data-status": t.status },
    h("code", {}, t.id.slice(0, 13) + "…"),
    " ",
    h("span", { class: "badge", "data-status": t.status }, t.status),
    ` ${done}/${total} steps · ${when(t.created_at)} `,
    h("button", { type: "button", "aria-label": `Open ${t.id}`, onclick: () => onOpen(t.id) }, "Open"),
  );
}
