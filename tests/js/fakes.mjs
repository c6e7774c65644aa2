// Fakes for the browser client's tests: WebSocket and EventSource stand-ins driven by the
// test, and setTimeout/clearTimeout over a virtual clock (no network, no real sleeps).
import assert from "node:assert/strict";

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

export { FUTURE, PAST, feedLinks, taskLinks, ev, flush, fakeClock, harness, query };
