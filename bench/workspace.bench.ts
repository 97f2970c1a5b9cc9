/**
 * Workspace benchmark: `forkRemote` of a followed checkout of 1,000 vs 100,000 content nodes
 * (latency until the hub holds the fork's pointer, bytes and content nodes sent; target ratio
 * ≤ 1.2 between sizes), and follow re-seat latency after a head moves against the floor: the plain
 * store-replication latency of the same head write (hub commit → the follower's store has the
 * pointer). Real sockets on 127.0.0.1, both ends in this process. Writes bench/results/workspace.json.
 *
 *   node --expose-gc --import tsx bench/workspace.bench.ts
 */
import { createContext, signal } from "../src/core/index.js";
import {
  createWorkspacePeer,
  followWorkspace,
  forkRemote,
  hostWorkspace,
  LeaseTable,
  type ObservableStore,
  observable,
  openStoredMap,
  Peer,
  type WorkspaceDescriptor,
} from "../src/distributed/index.js";
import { MemStore } from "../test/distributed/workspace/mem-store.js";
import { writeResults } from "./harness.js";

const FORKS = 30;
const RESEATS = 100;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 120_000): Promise<void> {
  const deadline = performance.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = async () => {
      if (await check()) resolve();
      else if (performance.now() > deadline) reject(new Error(`${what}: not within ${ms} ms`));
      else setImmediate(poll);
    };
    void poll();
  });
}

async function room(size: number, port: number) {
  const hubCtx = createContext({ name: "hub" });
  const hub = await Peer.listen({ id: `hub${port}`, host: "127.0.0.1", port: 0, context: hubCtx });
  const hubStore = observable(new MemStore());
  const map = await openStoredMap(hubStore, { id: "doc", leafSize: 1 });
  await map.transact(Array.from({ length: size }, (_, i) => [`k${i}`, i] as const));
  const pin = async () => ({ branch: "main", head: (await map.head("main")) as string, topic: "b/doc" });
  const descriptor = signal<WorkspaceDescriptor | null>({
    branch: "main",
    owner: hub.id,
    descriptorTopic: "b/desc",
    systems: { doc: await pin() },
  });
  const host = hostWorkspace(hub, {
    descriptorTopic: "b/desc",
    descriptor,
    context: hubCtx,
    stores: { doc: hubStore },
    leases: new LeaseTable({ hub: hub.id }),
  });
  const client = await Peer.connect({ id: "c1", url: hub.url as string });
  const ctx = createContext({ name: "c1" });
  const store = observable(new MemStore());
  const local = await openStoredMap(store as ObservableStore, { id: "doc", create: false });
  let reseatAt = 0;
  const wp = createWorkspacePeer<string>({
    self: "c1",
    context: ctx,
    resolveSystem: (_s, _b, head) => head,
    onReseat: () => {
      reseatAt = performance.now();
    },
  });
  const follow = followWorkspace(wp, client, "b/desc", {
    stores: { doc: store },
    publishBranches: Array.from({ length: FORKS }, (_, i) => `fork-${i}`),
  });
  await waitFor(() => wp.seated !== null, "first seat");
  const contentNodes = (hubStore.inner as MemStore).contentNodes;
  return {
    hub,
    hubCtx,
    hubStore,
    map,
    pin,
    descriptor,
    host,
    client,
    ctx,
    store,
    local,
    wp,
    follow,
    contentNodes,
    reseatAt: () => reseatAt,
  };
}

async function forkCost(size: number) {
  const r = await room(size, size);
  const latencies: number[] = [];
  const bytes: number[] = [];
  const nodes: number[] = [];
  // the fork's pointer is published to the hub (a new branch is claimed by its creator): the
  // latency is until the hub holds it
  const stats = r.follow.content.get("doc")?.stats;
  if (stats === undefined) throw new Error("no content topic");
  for (let i = 0; i < FORKS; i++) {
    const name = `fork-${i}`;
    const before = { ...stats };
    const parent = r.wp.descriptor as WorkspaceDescriptor;
    const t0 = performance.now();
    const fork = await forkRemote(r.wp, parent, name, "c1", { doc: r.local });
    await waitFor(async () => (await r.map.head(name)) === fork.systems.doc?.head, "fork pointer at hub");
    latencies.push(performance.now() - t0);
    bytes.push(stats.bytesSent - before.bytesSent);
    nodes.push(stats.nodesSent - before.nodesSent);
    r.wp.setDescriptor(parent);
  }
  await r.client.close();
  await r.hub.close();
  return {
    size,
    contentNodes: r.contentNodes,
    forkP50Ms: median(latencies),
    bytesP50: median(bytes),
    nodesSentMax: Math.max(...nodes),
  };
}

async function reseat() {
  const r = await room(1_000, 1);
  const floor: number[] = [];
  const seat: number[] = [];
  let pointerAt = 0;
  let expected = "";
  r.store.listen((writes, origin) => {
    if (origin === "remote" && writes.some(([k, v]) => k === "head/main" && v === expected))
      pointerAt = performance.now();
  });
  for (let i = 0; i < RESEATS; i++) {
    const t0 = performance.now();
    const head = await r.map.set("k1", `v${i}`);
    expected = head;
    const d = r.hubCtx.get(r.descriptor) as WorkspaceDescriptor;
    r.hubCtx.set(r.descriptor, { ...d, systems: { doc: await r.pin() } });
    await waitFor(() => r.wp.seated?.systems.doc?.head === head && pointerAt >= t0, "re-seat");
    floor.push(pointerAt - t0);
    seat.push(r.reseatAt() - t0);
  }
  await r.client.close();
  await r.hub.close();
  return { writes: RESEATS, floorP50Ms: median(floor), reseatP50Ms: median(seat) };
}

const small = await forkCost(1_000);
const large = await forkCost(100_000);
const follow = await reseat();
const result = {
  fork: {
    small,
    large,
    latencyRatio: large.forkP50Ms / small.forkP50Ms,
    bytesRatio: large.bytesP50 / small.bytesP50,
    target: "≤ 1.2",
  },
  follow: { ...follow, ratioToFloor: follow.reseatP50Ms / follow.floorP50Ms },
};
console.log(JSON.stringify(result, null, 2));
console.log("wrote", writeResults("workspace", result));
process.exit(0);
