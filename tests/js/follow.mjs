// Drives the real browser client (public/studio-client.js) in Node 22 against a running studio,
// for the end-to-end tests (tests/e2e/client.rs): follows one task through its signed links
// and prints one JSON line per event, then the final state.
//
//   node tests/js/follow.mjs '<task links JSON>' [dropAfter]
//
// With dropAfter = N, the first WebSocket is cut after N events (as a flaky network would), so
// the client must reconnect with `since` and still deliver every event exactly once.
import { connectTask } from "../../public/studio-client.js";

const [links, dropAfter] = [JSON.parse(process.argv[2]), Number(process.argv[3] ?? 0)];
let connections = 0;

// Node's WebSocket, except that the first connection dies after `dropAfter` messages.
class FlakyWebSocket extends WebSocket {
  constructor(url) {
    super(url);
    const n = ++connections;
    let seen = 0;
    this.addEventListener("message", () => {
      if (n === 1 && dropAfter > 0 && ++seen === dropAfter) this.close(4000, "test drop");
    });
  }
}

const deadline = setTimeout(() => {
  console.log(JSON.stringify({ state: "timeout" }));
  process.exit(2);
}, 60_000);

connectTask(links, {
  WebSocket: FlakyWebSocket,
  EventSource: undefined,
  backoff: { initialMs: 50, maxMs: 500, factor: 2 },
  onEvent: (event) => console.log(JSON.stringify({ event })),
  onState: (state, detail) => {
    if (state !== "closed") return;
    clearTimeout(deadline);
    console.log(JSON.stringify({ state, reason: detail.reason, connections }));
  },
});
