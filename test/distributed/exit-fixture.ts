/**
 * Run as a child process by lifecycle.test.ts: listen, connect, call, close — then the process
 * must exit by itself (no lingering sockets, servers or timers).
 */
import { createContext } from "../../src/core/index.js";
import { invokeRemote, Peer, registerRemote } from "../../src/distributed/index.js";

const mul = registerRemote(
  "test/distributed/exit-fixture:mul:0",
  ["x", "y"],
  "h",
  (x, y) => async () => (x as number) * (y as number),
);

const hub = await Peer.listen({
  id: "hub",
  host: "127.0.0.1",
  port: 0,
  context: createContext(),
  heartbeatMs: 1_000,
});
const client = await Peer.connect({ id: "c1", url: hub.url!, reconnect: true, heartbeatMs: 1_000 });
const ctx = createContext();
console.log(`result ${await ctx.value(invokeRemote(mul, client.remote("hub"), [6, 7]))}`);
// a call that is still pending at close time (its deadline timer must be cleared too)
const pending = ctx.value(invokeRemote(mul, client.remote("nobody"), [1, 1])).catch(() => "rejected");
await client.close();
await hub.close();
console.log(`closed (pending call ${await pending})`);
// libuv finishes closing a server handle in the close-callbacks phase, a loop turn or two after
// `server.close()` called back: look again for a bounded number of turns
const active = () =>
  process
    .getActiveResourcesInfo()
    .filter((r) => r !== "TTYWrap" && r !== "PipeWrap" && r !== "FSReqCallback");
let left = active();
for (let turn = 0; turn < 20 && left.length > 0; turn++) {
  await new Promise((resolve) => setImmediate(resolve));
  left = active();
}
console.log(`handles: ${left.length === 0 ? "none" : left.join(", ")}`);
