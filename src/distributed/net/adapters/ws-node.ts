/**
 * The `ws` adapter (Node): a `ws` socket as a {@link Link}, with write coalescing, and a
 * {@link LinkTransport} that dials with `ws` and listens on a `node:http` server.
 * @module
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import { RemoteError } from "../../errors.js";
import type { Link, LinkEvents, LinkServer, LinkTransport, ListenLinkOptions } from "../link.js";

/** The part of `net.Socket` write coalescing uses. */
interface CorkableStream {
  cork(): void;
  uncork(): void;
}

const EMPTY = new Uint8Array(0);

function uncork(link: WsLink, stream: CorkableStream): void {
  if (link.corked !== stream) return; // flushed early (see WsLink.flush)
  link.corked = null;
  stream.uncork();
}

/**
 * A `ws` socket as a link. Frames sent close together leave in one write: the first send corks
 * the TCP stream and a `process.nextTick` uncorks it, so every frame sent until the tick queue
 * next runs shares the syscall, and pipelined calls and answers do not pay one each. Each frame
 * is still its own WebSocket message.
 */
export class WsLink implements Link {
  /** The TCP stream while it is corked until the next tick, else null. */
  corked: CorkableStream | null = null;
  readonly canPing = true;

  /** @param socket a `ws` socket (connecting or open) */
  constructor(readonly socket: WebSocket) {
    socket.binaryType = "nodebuffer";
  }

  get readyState(): number {
    return this.socket.readyState;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  start(events: LinkEvents): void {
    const s = this.socket;
    s.on("open", () => events.open());
    s.on("message", (data, isBinary) => {
      if (!isBinary) {
        events.message(String(data));
        return;
      }
      events.message(
        Array.isArray(data) ? concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data,
      );
    });
    s.on("pong", () => events.pong());
    s.on("error", (err) => events.error(err));
    s.on("close", (code, reason) => events.close(code, reason.toString()));
  }

  send(bytes: Uint8Array): void {
    if (this.corked === null) {
      // ws keeps its net.Socket here; there is no public accessor
      const stream = (this.socket as unknown as { _socket?: Socket | null })._socket;
      if (stream != null) {
        this.corked = stream;
        stream.cork();
        process.nextTick(uncork, this, stream);
      }
    }
    this.socket.send(bytes, { binary: true });
  }

  flush(): void {
    const stream = this.corked;
    if (stream !== null) {
      this.corked = null;
      stream.uncork();
    }
  }

  ping(): void {
    try {
      this.socket.ping(EMPTY);
    } catch {
      // the socket is going away; 'close' follows
    }
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  terminate(): void {
    this.socket.terminate();
  }
}

/** Fragments of one message (`ws` with binaryType "fragments"), joined. */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return "/";
  const q = url.indexOf("?");
  return q >= 0 ? url.slice(0, q) : url;
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once("finish", () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** The URL to dial a server: undefined until it is bound; wildcard addresses become loopback. */
function urlOf(server: Server, path: string | undefined): string | undefined {
  const a = server.address() as AddressInfo | string | null;
  if (a === null) return undefined;
  if (typeof a === "string") return `ws+unix:${a}:${path ?? "/"}`;
  const addr = a.address === "0.0.0.0" ? "127.0.0.1" : a.address === "::" ? "::1" : a.address;
  const host = addr.includes(":") ? `[${addr}]` : addr;
  return `ws://${host}:${a.port}${path ?? ""}`;
}

/** Default bound on a TCP connection that has not asked to upgrade. */
export const DEFAULT_UPGRADE_TIMEOUT_MS = 10_000;

async function listenWs(opts: ListenLinkOptions): Promise<LinkServer> {
  const { path } = opts;
  const origins = opts.origins !== undefined ? new Set(opts.origins) : null;
  const upgradeTimeoutMs = opts.upgradeTimeoutMs ?? DEFAULT_UPGRADE_TIMEOUT_MS;
  const maxConnections = opts.maxConnections ?? Number.POSITIVE_INFINITY;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxPayload,
    perMessageDeflate: false,
    clientTracking: false,
  });
  wss.on("error", (err) => opts.report(err, "listener"));
  const owned = opts.server === undefined;
  // the public option is structural (no node:http types in spindel's .d.ts); in Node it is a Server
  const server =
    (opts.server as Server | undefined) ??
    createServer((_req, res) => {
      res.writeHead(426, { "content-type": "text/plain", connection: "close" });
      res.end("spindel peer: connect with a WebSocket\n");
    });
  // sockets of our own server: silent ones are closed after upgradeTimeoutMs, and the count is capped
  const sockets = new Set<Socket>();
  const onConnection = (socket: Socket): void => {
    if (sockets.size >= maxConnections) {
      opts.report(
        new RemoteError("ERR_LIMIT", `connection refused: maxConnections ${maxConnections} reached`),
        "listener",
      );
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (Number.isFinite(upgradeTimeoutMs)) {
      const timer = setTimeout(() => {
        if (!upgraded.has(socket)) socket.destroy();
      }, upgradeTimeoutMs);
      timer.unref();
      socket.once("close", () => clearTimeout(timer));
    }
  };
  const upgraded = new WeakSet<Duplex>();
  if (owned) server.on("connection", onConnection);
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => {}); // a client resetting mid-handshake must not crash the process
    upgraded.add(socket);
    // without a path option only "/" is ours: a scanner's random paths are not upgraded
    if (pathOf(req.url) !== (path ?? "/")) {
      if (server.listeners("upgrade").length === 1) refuseUpgrade(socket, 404, "Not Found");
      return; // someone else's path
    }
    const origin = req.headers.origin;
    if (origins !== null && origin !== undefined && !origins.has(origin)) {
      refuseUpgrade(socket, 403, "Forbidden");
      return;
    }
    if (opts.isClosing()) {
      refuseUpgrade(socket, 503, "Service Unavailable");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => opts.accept({ link: new WsLink(ws), request: req }));
  };
  server.on("upgrade", onUpgrade);
  const detach = (): void => {
    server.off("upgrade", onUpgrade);
    server.off("connection", onConnection);
  };
  if (owned) {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        server.off("listening", onListening);
        reject(
          new RemoteError(
            "ERR_UNAVAILABLE",
            `cannot listen on ${opts.host ?? "127.0.0.1"}:${opts.port ?? 0}: ${err.message}`,
            { cause: err },
          ),
        );
      };
      const onListening = (): void => {
        server.off("error", onError);
        resolve();
      };
      server.once("error", onError);
      server.once("listening", onListening);
      server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1");
    }).catch((err: unknown) => {
      detach();
      wss.close();
      throw err;
    });
    server.on("error", (err) => opts.report(err, "listener"));
  }
  return {
    get url() {
      return urlOf(server, path);
    },
    async close() {
      detach();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      if (!owned) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) if (!upgraded.has(s)) s.destroy();
      });
    },
  };
}

/** `ws` and `node:http`: dials `ws://`, `wss://` and `ws+unix:` URLs, listens on HTTP servers. */
export const wsTransport: LinkTransport = {
  name: "ws",
  accepts: (url) => /^(wss?:\/\/|ws\+unix:)/.test(url),
  dial: (url, opts) =>
    new WsLink(
      new WebSocket(url, {
        perMessageDeflate: false,
        maxPayload: opts.maxPayload,
        handshakeTimeout: opts.handshakeTimeout,
        headers: opts.headers,
      }),
    ),
  listen: listenWs,
};
