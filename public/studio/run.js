// Run panel: creates the task, follows it live with /studio-client.js (resuming with `since`),
// draws the overall progress bar and each step's status, and cancels it.
import { connectTask } from "/studio-client.js";
import { api } from "./api.js";
import { h, $, bytes, ms } from "./dom.js";
import { showResult, hideResult } from "./result.js";

const KEY = "studio.task"; // the followed task, so a reload follows it again
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
let live = null;
let model = null;

/** Creates a task for `images` with `steps`; resolves once it is followed. */
export async function run(images, steps) {
  const task = await api("/tasks", { method: "POST", body: { images, steps } });
  await follow(task.id, task);
}

/** The task this tab followed last (survives a reload), or null. */
export const remembered = () => sessionStorage.getItem(KEY);

/** Follows a task from its first event (replayed), whatever its state. */
export async function follow(id, known) {
  stop();
  const task = known ?? (await api(`/tasks/${id}`));
  sessionStorage.setItem(KEY, id);
  model = { id, ops: task.steps.map((s) => s.op), steps: task.steps.map(() => new Map()), status: task.status, progress: task.progress };
  hideResult();
  $("task").hidden = false;
  $("task-error").textContent = "";
  $("task-id").textContent = id;
  $("cancel").disabled = false;
  $("cancel").onclick = () => cancel(id);
  draw();
  const m = model;
  live = connectTask(task.links, {
    onEvent: (event) => m === model && apply(event),
    onState: (state, detail) => m === model && connection(state, detail),
    refreshLinks: async () => (await api(`/tasks/${id}`)).links,
  });
}

/** Back online (a lid opened, a network returned): follow again now rather than after the backoff. */
export async function resume() {
  if (!model) return;
  if (TERMINAL.has(model.status)) return void ($("task-conn").textContent = "");
  const id = model.id;
  const task = await api(`/tasks/${id}`); // if this fails, the current stream keeps trying by itself
  if (model?.id === id) await follow(id, task);
}

/** Stops following (sign-out, or another task is opened). */
export function stop() {
  live?.close();
  live = null;
  model = null;
}

export function forget() {
  stop();
  sessionStorage.removeItem(KEY);
  $("task").hidden = true;
}

async function cancel(id) {
  $("cancel").disabled = true;
  try {
    await api(`/tasks/${id}/cancel`, { method: "POST" });
  } catch (err) {
    $("cancel").disabled = false;
    if (err.status !== 401) $("task-error").textContent = err.message;
  }
}

function apply(event) {
  if (event.progress) model.progress = event.progress;
  const per = model.steps[event.step];
  switch (event.type) {
    case "step.started":
      model.status = "running";
      per?.set(event.image, { status: "running", attempt: event.attempt });
      break;
    case "step.progress": {
      // One encode of a max_bytes search: which try, at what quality, and whether it fit.
      const s = event.search;
      const search = `try ${s.encode}: quality ${s.quality}, ${bytes(s.bytes)}${s.fits ? " fits" : " too big"}`;
      per?.set(event.image, { status: "running", attempt: event.attempt, search });
      break;
    }
    case "step.succeeded":
      per?.set(event.image, { status: "succeeded", duration: event.duration_ms, memory: event.memory_bytes, cached: event.cached });
      break;
    case "step.retrying":
      per?.set(event.image, { status: "retrying", attempt: event.attempt, delay: event.delay_ms, error: event.error?.message });
      break;
    case "step.failed":
      per?.set(event.image, { status: "failed", error: event.error?.message });
      break;
    case "task.succeeded":
    case "task.failed":
    case "task.cancelled":
      model.status = event.type.slice(5);
      if (event.error) $("task-error").textContent = `Failed: ${event.error.message}`;
      break;
  }
  draw();
  if (model.status === "succeeded" && event.type === "task.succeeded") finished(model.id);
}

async function finished(id) {
  try {
    const task = await api(`/tasks/${id}`); // outputs and fresh signed links
    if (model?.id === id) await showResult(task);
  } catch (err) {
    if (err.status !== 401) $("task-error").textContent = err.message;
  }
}

function connection(state, detail) {
  const text = {
    connecting: "connecting…",
    open: "live",
    reconnecting: `reconnecting (attempt ${detail?.attempt})…`,
    closed: detail?.reason === "finished" ? "" : `stopped following (${detail?.reason})`,
  };
  $("task-conn").textContent = text[state] ?? "";
}

// Images in the task, from its progress: steps × images, plus the zip when several.
function imageCount() {
  const n = model.ops.length;
  const total = model.progress?.total ?? n;
  return !n || total <= n ? 1 : Math.max(1, Math.round((total - 1) / n));
}

function draw() {
  const { done = 0, total = 0 } = model.progress ?? {};
  const pct = model.status === "succeeded" ? 100 : total ? Math.round((100 * done) / total) : 0;
  const bar = $("task-progress");
  bar.setAttribute("aria-valuenow", String(pct));
  bar.setAttribute("aria-valuetext", `${pct}% (${done} of ${total} steps)`);
  bar.firstElementChild.style.width = `${pct}%`;
  $("task-status").textContent = model.status;
  $("task-status").dataset.status = model.status;
  $("cancel").hidden = TERMINAL.has(model.status);
  const images = imageCount();
  $("task-steps").replaceChildren(...model.ops.map((op, i) => stepRow(op, i, [...model.steps[i].values()], images)));
}

function stepRow(op, i, states, images) {
  const count = (s) => states.filter((x) => x.status === s).length;
  const failed = states.find((s) => s.status === "failed");
  const retrying = states.find((s) => s.status === "retrying");
  const running = states.find((s) => s.status === "running");
  let status = "queued";
  let detail = "";
  if (failed) [status, detail] = ["failed", failed.error ?? ""];
  else if (retrying) [status, detail] = ["retrying", `attempt ${retrying.attempt} in ${ms(retrying.delay)}: ${retrying.error ?? ""}`];
  else if (running) {
    const tries = [running.attempt > 1 ? `attempt ${running.attempt}` : "", running.search ?? ""];
    [status, detail] = ["running", tries.filter(Boolean).join(" · ")];
  }
  else if (count("succeeded") >= images) {
    const done = states.filter((s) => s.status === "succeeded");
    const time = done.reduce((a, s) => a + (s.duration ?? 0), 0);
    const memory = Math.max(...done.map((s) => s.memory ?? 0));
    status = "succeeded";
    detail = done.every((s) => s.cached) ? "reused an earlier result" : `${ms(time)}, ${bytes(memory)} memory`;
  } else if (model.status === "cancelled" || model.status === "failed") status = "not run";
  if (images > 1 && status !== "succeeded") detail = `${count("succeeded")}/${images} images · ${detail}`;
  return h("li", { "data-status": status }, h("span", { class: "op" }, `${i + 1}. ${op}`), " ", h("span", { class: "badge" }, status), detail ? ` ${detail}` : "");
}
