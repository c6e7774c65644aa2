// Browser client for the live streams of docs/LIVE.md, served as-is from public/ (no build step,
// no dependencies): follows one task's events (connectTask) or the tenant feed (connectFeed)
// over a WebSocket, falls back to Server-Sent Events, reconnects with jittered backoff and
// resumes with `?since=` so that onEvent sees every `seq` exactly once and in order.
//
//   import { connectTask } from "/studio-client.js";
//   const live = connectTask(task.links, { onEvent: render, refreshLinks: async () => (await getTask()).links });

const TERMINAL = new Set(["task.succeeded", "task.failed", "task.cancelled"]);
// The server's "too many sockets on this stream; retry later": says nothing about WebSocket
// support or the link, so it neither pushes the session to SSE nor asks for fresh links.
const CLOSE_FULL = 1013;

/** Follows a task's stream (`links` = the task's `{ws, events}`) until its terminal event. */
export function connectTask(links, options) {
  return connect(links, (l) => ({ ws: l.ws, events: l.events }), true, options);
}

/** Follows the tenant feed (`links` = `{feed_ws, feed_events}` from `GET /tasks`); never ends. */
export function connectFeed(links, options) {
  return connect(links, (l) => ({ ws: l.feed_ws, events: l.feed_events }), false, options);
}

// The one state machine: connecting → open ⇄ reconnecting → closed (closed is final).
function connect(rawLinks, pick, finite, options = {}) {
  const o = withDefaults(options);
  let links = pick(rawLinks);
  let state = null;
  let lastSeq = o.since;
  let transport = o.WebSocket ? "ws" : "sse";
  let conn = null; // the current attempt: {handle, url, opened, messages}
  let timer = null; // the pending reconnect
  let attempt = 0; // reconnects since a connection last received a message
  let wsFailures = 0; // consecutive WebSockets that failed to open
  let silentDrops = 0; // consecutive attempts that ended without a single message
  let needLinks = false; // refresh the links before the next attempt

  const setState = (next, detail) => {
    state = next;
    o.onState(next, detail);
  };

  function open() {
    if (state === "closed") return; // close() ran in a callback or while refreshLinks was awaited
    const c = (conn = { opened: false, messages: 0 });
    const ws = transport === "ws";
    try {
      c.url = resumeUrl(ws ? links.ws : links.events, lastSeq, ws);
      const on = { open: () => onOpen(c), text: (t) => onText(c, t), drop: (info) => onDrop(c, info) };
      c.handle = ws ? openWebSocket(c.url, o, on) : openEventSource(c.url, o, on);
    } catch (err) {
      // A constructor that throws (bad URL, blocked by policy) is one more failed attempt.
      onDrop(c, { why: String(err) });
    }
  }

  function onOpen(c) {
    c.opened = true;
    if (transport === "ws") wsFailures = 0;
    setState("open", { transport });
  }

  function onText(c, text) {
    // Any traffic (even "pong") proves the link and the route work: back off from scratch.
    if (c.messages++ === 0) attempt = 0;
    silentDrops = 0;
    if (text === "pong") return;
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      return; // not an event
    }
    const seq = event?.seq;
    if (!Number.isInteger(seq) || seq <= lastSeq) return; // a replay overlapping what we have
    if (seq > lastSeq + 1) {
      // The log is gap-free, so a gap is a bug somewhere; asking again from lastSeq beats
      // delivering out of order.
      c.handle.close();
      return onDrop(c, { why: "gap" });
    }
    lastSeq = seq;
    // finally: even if the page's handler throws, a finished task must not be followed again
    // (its 1000 close would otherwise look like a drop and reconnect forever).
    try {
      o.onEvent(event);
    } finally {
      if (finite && TERMINAL.has(event.type)) finish({ reason: "finished", event });
    }
  }

  function onDrop(c, { code, why = `closed ${code}` }) {
    if (state === "closed" || c !== conn) return;
    conn = null;
    // The server closes a task stream with 1000 only after its terminal event — which this
    // client may have seen on an earlier connection (resuming with since ≥ the last seq).
    if (finite && c.opened && code === 1000) return finish({ reason: "finished" });
    const capped = code === CLOSE_FULL;
    // An expired link fails before any message; retrying it as it is can never work.
    const expired = c.messages === 0 && isExpired(c.url);
    if (expired && !o.refreshLinks) return finish({ reason: "unauthorized", url: c.url });
    if (c.messages === 0 && !capped) silentDrops++;
    // Twice in a row with nothing received also smells of a refused link (the server's clock
    // may disagree with ours about `exp`), so fresh links are worth a request.
    if (o.refreshLinks && (expired || silentDrops >= 2)) needLinks = true;
    const wsFailed = transport === "ws" && !c.opened && !capped && !expired;
    if (wsFailed && ++wsFailures >= o.maxWsFailures && o.EventSource) transport = "sse";
    retry(why);
  }

  function retry(why) {
    if (state === "closed") return;
    if (attempt >= o.maxAttempts) return finish({ reason: "gave_up", attempts: attempt, why });
    const { initialMs, maxMs, factor } = o.backoff;
    // Full jitter: a thousand dashboards dropped together do not come back together.
    const delayMs = o.random() * Math.min(maxMs, initialMs * factor ** attempt);
    attempt++;
    timer = o.setTimeout(reconnect, delayMs); // before onState, which may call close()
    setState("reconnecting", { attempt, delayMs, transport, why });
  }

  async function reconnect() {
    timer = null;
    if (needLinks) {
      try {
        links = pick(await o.refreshLinks());
        needLinks = false;
        silentDrops = 0;
      } catch (err) {
        return retry(`refreshLinks failed: ${err}`);
      }
    }
    open();
  }

  function finish(detail) {
    if (state === "closed") return;
    o.clearTimeout(timer);
    timer = null;
    conn?.handle?.close();
    conn = null;
    setState("closed", detail);
  }

  setState("connecting", { transport });
  open();
  return {
    close: () => finish({ reason: "closed_by_client" }),
    get state() {
      return state;
    },
    get lastSeq() {
      return lastSeq;
    },
  };
}

// A WebSocket attempt. Calls on.open(), on.text(frame) and, once, on.drop({code|why}); after
// close() (ours) nothing more is reported.
function openWebSocket(url, o, on) {
  const socket = new o.WebSocket(url);
  let timer = null;
  // A dead TCP path can look open for minutes: ping after one quiet interval and give up after
  // two. Re-armed by every message, so a busy stream is never pinged.
  const arm = () => {
    o.clearTimeout(timer);
    timer = o.setTimeout(() => {
      socket.send("ping");
      timer = o.setTimeout(() => {
        stop();
        on.drop({ why: "heartbeat timeout" });
      }, o.heartbeatMs);
    }, o.heartbeatMs);
  };
  const stop = () => {
    o.clearTimeout(timer);
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(1000); // the server answers 1000 too, so it frees the slot at once
    } catch {
      // already closed
    }
  };
  socket.onopen = () => {
    arm();
    on.open();
  };
  socket.onmessage = (e) => {
    arm();
    on.text(e.data);
  };
  // "error" is always followed by "close", which carries the code: act on that one only.
  socket.onclose = (e) => {
    stop();
    on.drop({ code: e.code });
  };
  return { close: stop };
}

// An SSE attempt, same interface. Comments (`: ping`) never reach JS, so there is no heartbeat.
function openEventSource(url, o, on) {
  const source = new o.EventSource(url);
  const stop = () => {
    source.onopen = source.onmessage = source.onerror = null;
    source.close();
  };
  source.onopen = () => on.open();
  source.onmessage = (e) => on.text(e.data);
  // EventSource would retry by itself with Last-Event-ID, but without our backoff, dedupe or
  // link refresh (an expired link would be retried forever): close it and reconnect ourselves.
  source.onerror = () => {
    stop();
    on.drop({ why: "stream error" });
  };
  return { close: stop };
}

// The link with since=<seq> (the signed exp/sub/sig stay: since is not part of the signature).
function resumeUrl(link, since, ws) {
  const url = new URL(link, globalThis.location?.href);
  url.searchParams.set("since", String(since));
  // A relative link resolves to http(s); older browsers refuse those for WebSocket.
  if (ws) url.protocol = url.protocol.replace(/^http/, "ws");
  return url.href;
}

function isExpired(url) {
  const exp = Number(url && new URL(url).searchParams.get("exp"));
  return exp > 0 && exp * 1000 <= Date.now();
}

function withDefaults(options) {
  const o = {
    onEvent() {},
    onState() {},
    since: 0,
    refreshLinks: null,
    WebSocket: globalThis.WebSocket,
    EventSource: globalThis.EventSource,
    random: Math.random,
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
    heartbeatMs: 25000,
    maxWsFailures: 3,
    maxAttempts: Infinity,
    ...options,
    backoff: { initialMs: 500, maxMs: 30000, factor: 2, ...options.backoff },
  };
  o.since ??= 0; // `since: saved?.seq` with nothing saved
  if (!o.WebSocket && !o.EventSource) throw new TypeError("studio-client: no WebSocket or EventSource");
  // Called as plain functions: window.setTimeout throws "Illegal invocation" as a method of o.
  const { setTimeout, clearTimeout } = o;
  o.setTimeout = (fn, ms) => setTimeout(fn, ms);
  o.clearTimeout = (id) => clearTimeout(id);
  return o;
}
