// Tests for public/studio-client.js with fake WebSocket/EventSource and a fake clock: no
// network, no real sleeps. Run from the repo root: node_modules/.bin/node --test tests/js/*.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { connectTask, connectFeed } from "../../public/studio-client.js";

const FUTURE = Math.floor(Date.now() / 1000) + 900;
const PAST = 1_000_000; // 1970: long expired

function feedLinks() {
  return {
    feed_ws: `wss://studio.test/events/ws?exp=${FUTURE}&sub=acme&sig=f`,
    feed_events: `https://studio.test/events?exp=${FUTURE}&sub=acme&sig=f`,
  };
}

function taskLinks(exp = FUTURE, sig = "sig1") {
  const q = `exp=${exp}&sub=acme&sig=${sig}`;
  return { ws: `wss://studio.test/tasks/task_1/ws?${q}`, events: `https://studio.test/tasks/task_1/events?${q}` };
}
const ev = (seq, type = "step.progress") => ({ seq, type, task: "task_1" });
const flush = () => new Promise((resolve) => setImmediate(resolve));

// setTimeout/clearTimeout over a virtual time line; `scheduled` records every delay asked for.
function fakeClock() {
  let now = 0;
  let nextId = 1;
  const timers = new Map();
  const scheduled = [];
  const earliest = () => [...timers].sort((a, b) => a[1].at - b[1].at)[0];
  const fire = async ([id, t]) => {
    timers.delete(id);
    now = t.at;
    t.fn();
    await flush(); // let async work (refreshLinks) settle
  };
  return {
    scheduled,
    pending: () => timers.size,
    setTimeout: (fn, ms) => {
      timers.set(nextId, { fn, at: now + ms });
      scheduled.push(ms);
      return nextId++;
    },
    clearTimeout: (id) => timers.delete(id),
    // Fires the earliest timer, whenever it is due.
    async next() {
      const due = earliest();
      assert.ok(due, "a timer is pending");
      await fire(due);
    },
    // Moves time forward by ms, firing what falls due on the way.
    async advance(ms) {
      const end = now + ms;
      for (let due = earliest(); due && due[1].at <= end; due = earliest()) await fire(due);
      now = end;
    },
  };
}

function harness(extra = {}) {
  const clock = fakeClock();
  const sockets = [];
  const sources = [];
  class FakeWebSocket {
    constructor(url) {
      Object.assign(this, { url, sent: [], closedWith: null });
      sockets.push(this);
    }
    send(data) {
      this.sent.push(data);
    }
    close(code) {
      this.closedWith = code;
    }
    // Driven by the tests, as the browser would:
    open() {
      this.onopen?.({});
    }
    receive(x) {
      this.onmessage?.({ data: typeof x === "string" ? x : JSON.stringify(x) });
    }
    drop(code = 1006) {
      if (code === 1006) this.onerror?.({});
      this.onclose?.({ code });
    }
  }
  class FakeEventSource {
    constructor(url) {
      Object.assign(this, { url, closed: false });
      sources.push(this);
    }
    close() {
      this.closed = true;
    }
    open() {
      this.onopen?.({});
    }
    receive(x) {
      this.onmessage?.({ data: JSON.stringify(x), lastEventId: String(x.seq) });
    }
    fail() {
      this.onerror?.({});
    }
  }
  const h = { clock, sockets, sources, seqs: [], states: [] };
  h.ws = () => sockets.at(-1);
  h.es = () => sources.at(-1);
  h.stateNames = () => h.states.map(([s]) => s);
  h.options = {
    WebSocket: FakeWebSocket,
    EventSource: FakeEventSource,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: () => 1,
    onEvent: (e) => h.seqs.push(e.seq),
    onState: (state, detail) => h.states.push([state, detail]),
    ...extra,
  };
  return h;
}
const query = (url) => Object.fromEntries(new URL(url).searchParams);

test("events are delivered once and in order across a drop, resuming with since=lastSeq", async () => {
  const h = harness();
  const live = connectTask(taskLinks(), h.options);
  assert.equal(query(h.ws().url).since, "0");
  h.ws().open();
  [1, 2, 3].forEach((s) => h.ws().receive(ev(s)));
  h.ws().drop(1006);
  assert.equal(live.state, "reconnecting");
  assert.equal(h.sockets.length, 1, "waits for the backoff first");
  await h.clock.next();
  assert.equal(h.sockets.length, 2);
  const url = new URL(h.ws().url);
  assert.equal(url.origin + url.pathname, "wss://studio.test/tasks/task_1/ws");
  assert.deepEqual(query(h.ws().url), { exp: String(FUTURE), sub: "acme", sig: "sig1", since: "3" });
  h.ws().open();
  [2, 3, 4, 5].forEach((s) => h.ws().receive(ev(s)));
  assert.deepEqual(h.seqs, [1, 2, 3, 4, 5]);
  assert.equal(live.lastSeq, 5);
  assert.deepEqual(h.stateNames(), ["connecting", "open", "reconnecting", "open"]);
});

test("a gap is not delivered: reconnect with since=lastSeq instead", async () => {
  const h = harness();
  connectTask(taskLinks(), h.options);
  h.ws().open();
  h.ws().receive(ev(1));
  h.ws().receive(ev(3));
  assert.deepEqual(h.seqs, [1]);
  assert.equal(h.ws().closedWith, 1000, "the socket with the gap is closed");
  await h.clock.next();
  assert.equal(query(h.ws().url).since, "1");
});

test("backoff grows exponentially with full jitter, is capped, and restarts after a message", async () => {
  const failTimes = async (h, n) => {
    for (let i = 0; i < n; i++) {
      h.ws().drop(1006);
      await h.clock.next();
    }
  };
  const full = harness({ maxWsFailures: Infinity }); // default backoff 500 ms ×2 up to 30 s
  connectTask(taskLinks(), full.options);
  await failTimes(full, 9);
  assert.deepEqual(full.clock.scheduled, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.deepEqual(
    full.states.filter(([s]) => s === "reconnecting").map(([, d]) => d.attempt),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );

  const half = harness({ maxWsFailures: Infinity, random: () => 0.5, backoff: { maxMs: 3000 } });
  connectTask(taskLinks(), half.options);
  await failTimes(half, 5);
  assert.deepEqual(half.clock.scheduled, [250, 500, 1000, 1500, 1500]);
  half.ws().open();
  half.ws().receive(ev(1)); // a working connection: the next drop starts over
  half.clock.scheduled.length = 0;
  half.ws().drop(1006);
  assert.deepEqual(half.clock.scheduled.filter((ms) => ms < 25000), [250]);
});

test("maxAttempts: closed gave_up after that many failed reconnects", async () => {
  const h = harness({ maxAttempts: 2, maxWsFailures: Infinity });
  const live = connectTask(taskLinks(), h.options);
  h.ws().drop(1006);
  await h.clock.next();
  h.ws().drop(1006);
  await h.clock.next();
  h.ws().drop(1006);
  assert.equal(live.state, "closed");
  assert.equal(h.states.at(-1)[1].reason, "gave_up");
  assert.equal(h.sockets.length, 3);
  assert.equal(h.clock.pending(), 0);
});

test("a terminal event closes the client as finished; the following 1000 close is not a drop", async () => {
  for (const terminal of ["task.succeeded", "task.failed", "task.cancelled"]) {
    const h = harness();
    const live = connectTask(taskLinks(), h.options);
    h.ws().open();
    h.ws().receive(ev(1, "task.queued"));
    h.ws().receive(ev(2, terminal));
    assert.equal(live.state, "closed");
    assert.equal(h.states.at(-1)[1].reason, "finished");
    assert.equal(h.states.at(-1)[1].event.type, terminal);
    h.ws().drop(1000); // the server's close after the terminal event
    await h.clock.advance(120_000);
    assert.equal(h.sockets.length, 1, `no reconnect after ${terminal}`);
    assert.equal(h.clock.pending(), 0);
    assert.deepEqual(h.seqs, [1, 2]);
  }
});

test("a 1000 close on a task stream resumed past its end closes as finished, without reconnecting", async () => {
  const h = harness();
  connectTask(taskLinks(), { ...h.options, since: 7 });
  h.ws().open();
  h.ws().drop(1000); // nothing follows seq 7: the server replays nothing and closes 1000
  assert.deepEqual(h.states.at(-1), ["closed", { reason: "finished" }]);
  assert.equal(h.clock.pending(), 0, "no reconnect (or heartbeat) is pending");
  assert.equal(h.sockets.length, 1);
});

test("the feed reconnects after a 1000 close (it never finishes)", async () => {
  const h = harness();
  connectFeed(feedLinks(), h.options);
  h.ws().open();
  h.ws().receive(ev(1, "task.created"));
  h.ws().drop(1000);
  await h.clock.next();
  assert.equal(h.sockets.length, 2);
  assert.equal(query(h.ws().url).since, "1");
});

test("after maxWsFailures WebSockets fail to open, falls back to SSE with since and dedupe", async () => {
  const h = harness();
  connectTask(taskLinks(), h.options);
  h.ws().open();
  [1, 2].forEach((s) => h.ws().receive(ev(s)));
  h.ws().drop(1006);
  for (let i = 0; i < 3; i++) {
    assert.equal(h.sources.length, 0, `still WebSocket after ${i} failures to open`);
    await h.clock.next();
    h.ws().drop(1006); // never opened
  }
  await h.clock.next();
  assert.equal(h.sockets.length, 4);
  assert.equal(h.sources.length, 1);
  assert.equal(new URL(h.es().url).pathname, "/tasks/task_1/events");
  assert.deepEqual(query(h.es().url), { exp: String(FUTURE), sub: "acme", sig: "sig1", since: "2" });
  h.es().open();
  [1, 2, 3, 4].forEach((s) => h.es().receive(ev(s)));
  assert.deepEqual(h.seqs, [1, 2, 3, 4]);

  // An SSE error: we close the EventSource ourselves and stay on SSE for the session.
  h.es().fail();
  assert.equal(h.es().closed, true);
  await h.clock.next();
  assert.equal(h.sockets.length, 4);
  assert.equal(h.sources.length, 2);
  assert.equal(query(h.es().url).since, "4");
  h.es().open();
  h.es().receive(ev(5, "task.succeeded"));
  assert.deepEqual(h.seqs, [1, 2, 3, 4, 5]);
  assert.equal(h.states.at(-1)[1].reason, "finished");
  assert.equal(h.es().closed, true);
});

test("only consecutive WebSocket failures to open count towards the SSE fallback", async () => {
  const h = harness();
  connectTask(taskLinks(), h.options);
  const failToOpen = async () => {
    h.ws().drop(1006); // a 1006 before open: the handshake failed
    await h.clock.next();
  };
  await failToOpen();
  await failToOpen();
  h.ws().open(); // WebSocket works after all: the count starts over
  await failToOpen(); // (this one had opened)
  await failToOpen();
  await failToOpen();
  assert.equal(h.sources.length, 0);
  await failToOpen();
  assert.equal(h.sources.length, 1);
  assert.equal(h.sockets.length, 6);
});

test("without a WebSocket constructor it uses SSE from the start", () => {
  const h = harness({ WebSocket: undefined });
  connectTask(taskLinks(), h.options);
  assert.equal(h.sources.length, 1);
  assert.equal(query(h.es().url).since, "0");
});

test("heartbeat: pings after a quiet interval, reconnects after two; pong is not an event", async () => {
  const h = harness({ heartbeatMs: 1000 });
  const live = connectTask(taskLinks(), h.options);
  h.ws().open();
  await h.clock.advance(999);
  assert.deepEqual(h.ws().sent, []);
  await h.clock.advance(1);
  assert.deepEqual(h.ws().sent, ["ping"]);
  h.ws().receive("pong"); // t=1000: traffic, the watchdog starts over
  assert.deepEqual(h.seqs, []);
  await h.clock.advance(1500);
  h.ws().receive(ev(1)); // t=2500: an event counts as traffic too
  await h.clock.advance(1999);
  assert.equal(live.state, "open");
  assert.deepEqual(h.ws().sent, ["ping", "ping", "ping"]);
  await h.clock.advance(1); // t=4500: two quiet intervals since the event
  assert.equal(live.state, "reconnecting");
  assert.equal(h.states.at(-1)[1].why, "heartbeat timeout");
  assert.equal(h.sockets[0].closedWith, 1000);
  await h.clock.next();
  assert.equal(h.sockets.length, 2);
  assert.equal(query(h.ws().url).since, "1");
  assert.deepEqual(h.seqs, [1]);
});

test("expired links: refreshLinks is called and the fresh link used", async () => {
  let calls = 0;
  const refreshLinks = async () => (calls++, taskLinks(FUTURE, "fresh"));
  // maxWsFailures 1: a refused link says nothing about WebSocket, so it must not force SSE.
  const h = harness({ refreshLinks, maxWsFailures: 1 });
  connectTask(taskLinks(PAST, "stale"), h.options);
  h.ws().drop(1006); // a 401 on the handshake: the socket never opens
  assert.equal(calls, 0, "refreshed right before the next attempt");
  await h.clock.next();
  assert.equal(calls, 1);
  assert.equal(h.sockets.length, 2);
  assert.deepEqual(query(h.ws().url), { exp: String(FUTURE), sub: "acme", sig: "fresh", since: "0" });
  assert.equal(h.sources.length, 0);
});

test("a failing refreshLinks is retried with backoff; close() while it runs wins", async () => {
  let calls = 0;
  let answer = Promise.reject(new Error("offline"));
  answer.catch(() => {});
  const h = harness({ refreshLinks: () => (calls++, answer) });
  const live = connectTask(taskLinks(PAST), h.options);
  h.ws().drop(1006);
  await h.clock.next();
  assert.equal(calls, 1);
  assert.equal(h.sockets.length, 1, "no attempt with the expired link");
  assert.match(h.states.at(-1)[1].why, /refreshLinks failed: Error: offline/);
  let resolve;
  answer = new Promise((r) => (resolve = r));
  const next = h.clock.next();
  assert.equal(calls, 2);
  live.close();
  resolve(taskLinks());
  await next;
  await flush();
  assert.equal(h.sockets.length, 1, "closed while refreshing: no new socket");
  assert.equal(live.state, "closed");
});

test("expired links without refreshLinks: closed unauthorized, no retry", async () => {
  const h = harness();
  const live = connectTask(taskLinks(PAST), h.options);
  h.ws().drop(1006);
  assert.equal(live.state, "closed");
  assert.equal(h.states.at(-1)[1].reason, "unauthorized");
  await h.clock.advance(60_000);
  assert.equal(h.sockets.length, 1);
});

test("two attempts in a row ending without a message refresh the links even if exp looks valid", async () => {
  let calls = 0;
  const h = harness({ refreshLinks: async () => (calls++, taskLinks(FUTURE, "fresh")) });
  connectTask(taskLinks(FUTURE, "skewed"), h.options);
  h.ws().open();
  h.ws().drop(1006);
  await h.clock.next();
  assert.equal(calls, 0);
  h.ws().open();
  h.ws().drop(1006);
  await h.clock.next();
  assert.equal(calls, 1);
  assert.equal(query(h.ws().url).sig, "fresh");
});

test("close() cancels the pending reconnect and the heartbeat", async () => {
  const h = harness();
  const live = connectTask(taskLinks(), h.options);
  h.ws().open();
  assert.equal(h.clock.pending(), 1, "the heartbeat timer");
  live.close();
  assert.equal(h.ws().closedWith, 1000);
  assert.equal(h.clock.pending(), 0);

  const h2 = harness();
  const live2 = connectTask(taskLinks(), h2.options);
  h2.ws().drop(1006);
  assert.equal(h2.clock.pending(), 1, "a reconnect is scheduled");
  live2.close();
  assert.equal(h2.clock.pending(), 0);
  await h2.clock.advance(120_000);
  assert.equal(h2.sockets.length, 1);
  assert.equal(live2.state, "closed");
  assert.deepEqual(h2.states.at(-1), ["closed", { reason: "closed_by_client" }]);

  // close() from inside onState("reconnecting") must not leave the just-scheduled retry.
  let live3;
  const h3 = harness({ onState: (state) => state === "reconnecting" && live3.close() });
  live3 = connectTask(taskLinks(), h3.options);
  h3.ws().drop(1006);
  assert.equal(live3.state, "closed");
  assert.equal(h3.clock.pending(), 0);
});

test("the feed uses feed_ws/feed_events and never treats an event as terminal", async () => {
  const h = harness();
  const feed = {
    feed_ws: `wss://studio.test/events/ws?exp=${FUTURE}&sub=acme&sig=f`,
    feed_events: `https://studio.test/events?exp=${FUTURE}&sub=acme&sig=f`,
  };
  const live = connectFeed(feed, h.options);
  assert.equal(new URL(h.ws().url).pathname, "/events/ws");
  h.ws().open();
  h.ws().receive(ev(1, "task.finished"));
  h.ws().receive(ev(2, "task.succeeded"));
  assert.equal(live.state, "open");
  h.ws().drop(1000);
  assert.equal(live.state, "reconnecting");
  await h.clock.next();
  assert.equal(new URL(h.ws().url).pathname, "/events/ws");
  assert.equal(query(h.ws().url).since, "2");

  const sse = harness({ WebSocket: undefined });
  connectFeed(feed, sse.options);
  assert.equal(new URL(sse.es().url).pathname, "/events");
});

test("a 1013 close reconnects on WebSocket: it is not a WebSocket failure", async () => {
  let calls = 0;
  const h = harness({ refreshLinks: async () => (calls++, taskLinks()) });
  const live = connectTask(taskLinks(), h.options);
  for (let i = 0; i < 4; i++) {
    h.ws().open();
    h.ws().drop(1013);
    assert.equal(live.state, "reconnecting");
    await h.clock.next();
  }
  h.ws().drop(1013); // even when the fake reports it without an open
  await h.clock.next();
  assert.equal(h.sockets.length, 6);
  assert.equal(h.sources.length, 0, "no SSE fallback");
  assert.equal(calls, 0, "a full stream is not a refused link");
  assert.deepEqual(h.clock.scheduled.filter((ms) => ms < 25000), [500, 1000, 2000, 4000, 8000]);
});

test("relative links resolve against the page and WebSocket ones get a ws(s) scheme", () => {
  globalThis.location = { href: "https://studio.test/app/" };
  try {
    const h = harness();
    connectTask({ ws: `/tasks/task_1/ws?exp=${FUTURE}&sub=acme&sig=s`, events: "/x" }, h.options);
    assert.equal(h.ws().url, `wss://studio.test/tasks/task_1/ws?exp=${FUTURE}&sub=acme&sig=s&since=0`);
  } finally {
    delete globalThis.location;
  }
});
