// public/studio-client.js: WebSocket vs SSE fallback, heartbeat, the 1013 cap, link schemes.
// Fake sockets and clock (tests/js/fakes.mjs). Run from the repo root:
//   node_modules/.bin/node --test tests/js/*.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { connectTask, connectFeed } from "../../public/studio-client.js";
import { FUTURE, PAST, feedLinks, taskLinks, ev, flush, fakeClock, harness, query } from "./fakes.mjs";

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
