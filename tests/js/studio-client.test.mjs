// public/studio-client.js: delivery once and in order, resume, backoff, the end of a stream, links, close().
// Fake sockets and clock (tests/js/fakes.mjs). Run from the repo root:
//   node_modules/.bin/node --test tests/js/*.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { connectTask, connectFeed } from "../../public/studio-client.js";
import { FUTURE, PAST, feedLinks, taskLinks, ev, flush, fakeClock, harness, query } from "./fakes.mjs";

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
