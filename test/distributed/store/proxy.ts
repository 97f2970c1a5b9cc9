/**
 * A TCP proxy on 127.0.0.1 that counts the bytes each way (WebSocket framing included): what a
 * replication really puts on the wire. Used by the replication tests and bench/store.bench.ts.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

/** A running counting proxy. */
export interface CountingProxy {
  /** `ws://127.0.0.1:<port>` of the proxy. */
  readonly url: string;
  /** Bytes from the dialer to the target so far. */
  readonly up: number;
  /** Bytes from the target to the dialer so far. */
  readonly down: number;
  /** Zero both counters. */
  reset(): void;
  close(): Promise<void>;
}

/** Proxy `127.0.0.1:<port>`, counting bytes. */
export async function countingProxy(targetPort: number): Promise<CountingProxy> {
  let up = 0;
  let down = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const target = createConnection({ host: "127.0.0.1", port: targetPort });
    sockets.add(client);
    sockets.add(target);
    client.on("data", (d: Buffer) => {
      up += d.length;
    });
    target.on("data", (d: Buffer) => {
      down += d.length;
    });
    client.pipe(target);
    target.pipe(client);
    const end = (): void => {
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    client.on("close", end);
    target.on("close", end);
    client.on("error", end);
    target.on("error", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    get up() {
      return up;
    },
    get down() {
      return down;
    },
    reset() {
      up = 0;
      down = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
