/**
 * The hub's HTTP side: `/health` (200 while serving, 503 while shutting down), `/metrics`
 * (Prometheus text), and, with a static directory, its files (GET/HEAD, `index.html` for
 * directories, never outside the directory). WebSocket upgrades on the same server go to the peer.
 * @module
 */
import { createReadStream, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";

/** The figures `/metrics` reports. */
export interface HubMetrics {
  /** Live links to remote peers. */
  readonly connections: number;
  /** Topics the hub owns. */
  readonly topics: number;
  /** Bytes written to the store since start. */
  readonly storeBytes: number;
  /** Payload bytes appended to and read from Redis since start. */
  readonly busBytes: number;
  /** Writes accepted but not yet on disk or not yet in Redis. */
  readonly pending: number;
  /** Publishes accepted since start. */
  readonly writes: number;
  /** Seconds since start. */
  readonly uptimeSeconds: number;
}

/** What the HTTP handler asks of the hub. */
export interface HttpHost {
  readonly id: string;
  readonly draining: boolean;
  readonly redis: boolean;
  metrics(): HubMetrics;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/** Prometheus text exposition of the metrics. */
export function metricsText(id: string, m: HubMetrics): string {
  const lines: string[] = [];
  const g = (name: string, help: string, type: "gauge" | "counter", value: number, labels = "") => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{hub="${id}"${labels}} ${value}`);
  };
  g("spindel_hub_connections", "Live links to remote peers.", "gauge", m.connections);
  g("spindel_hub_topics", "Topics this hub owns.", "gauge", m.topics);
  g("spindel_hub_store_bytes_total", "Bytes written to the store.", "counter", m.storeBytes);
  g("spindel_hub_bus_bytes_total", "Payload bytes appended to and read from Redis.", "counter", m.busBytes);
  g("spindel_hub_pending", "Accepted writes not yet on disk or in Redis.", "gauge", m.pending);
  g("spindel_hub_writes_total", "Publishes accepted.", "counter", m.writes);
  g("spindel_hub_uptime_seconds", "Seconds since start.", "gauge", Math.round(m.uptimeSeconds));
  return `${lines.join("\n")}\n`;
}

/** The request handler of the hub's HTTP server. */
export function httpHandler(host: HttpHost, staticDir: string | undefined) {
  const root = staticDir === undefined ? undefined : path.resolve(staticDir);
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://hub");
    if (url.pathname === "/health") {
      const status = host.draining ? "shutting-down" : "ok";
      res.writeHead(host.draining ? 503 : 200, {
        "content-type": "application/json",
        "cache-control": "no-store",
      });
      res.end(JSON.stringify({ status, id: host.id, redis: host.redis, ...host.metrics() }));
      return;
    }
    if (url.pathname === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4", "cache-control": "no-store" });
      res.end(metricsText(host.id, host.metrics()));
      return;
    }
    if (root === undefined || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
      return;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    let file = path.resolve(root, `.${path.posix.normalize(rel)}`);
    if (file !== root && !file.startsWith(root + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = path.join(file, "index.html");
      const st = statSync(file);
      res.writeHead(200, {
        "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
        "content-length": st.size,
        "cache-control": "no-cache",
      });
      if (req.method === "HEAD") res.end();
      else createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    }
  };
}
