/**
 * The browser adapter: the page's own `WebSocket` as a {@link Link}, and a {@link LinkTransport}
 * that dials (a page cannot listen).
 * @module
 */
import type { Link, LinkEvents, LinkTransport } from "../link.js";

/** A browser `WebSocket` as a link. Browsers cannot send pings: sessions beat with ping frames. */
export class WebSocketLink implements Link {
  private readonly ws: WebSocket;
  private events: LinkEvents | null = null;
  private closedEmitted = false;
  readonly canPing = false;

  /** @param url a `ws://` or `wss://` URL */
  constructor(url: string) {
    const Ctor = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
    if (Ctor === undefined) throw new Error("this platform has no WebSocket");
    this.ws = new Ctor(url);
    this.ws.binaryType = "arraybuffer";
    this.ws.addEventListener("open", () => this.events?.open());
    this.ws.addEventListener("message", (ev: MessageEvent) => {
      const d = ev.data as ArrayBuffer | string;
      this.events?.message(typeof d === "string" ? d : new Uint8Array(d));
    });
    this.ws.addEventListener("error", () => this.events?.error(new Error("WebSocket error")));
    this.ws.addEventListener("close", (ev: CloseEvent) => this.emitClose(ev.code, ev.reason));
  }

  get readyState(): number {
    return this.ws.readyState;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  start(events: LinkEvents): void {
    this.events = events;
  }

  send(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  flush(): void {}

  ping(): void {}

  /** Browsers only let a page send 1000 or 3000–4999: other codes go as 1000 with the reason. */
  close(code: number, reason: string): void {
    this.ws.close(code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, reason);
  }

  /** Close without waiting: `close` is reported now (1006). */
  terminate(): void {
    try {
      this.ws.close(1000, "terminated");
    } catch {
      // already closing
    }
    this.emitClose(1006, "");
  }

  private emitClose(code: number, reason: string): void {
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.events?.close(code, reason);
  }
}

/** The browser's WebSocket (headers, frame limits and handshake timeouts are the browser's). */
export const webSocketTransport: LinkTransport = {
  name: "browser",
  accepts: (url) => /^wss?:\/\//.test(url),
  dial: (url, opts) => {
    if (opts.headers !== undefined && Object.keys(opts.headers).length > 0)
      throw new Error("a page cannot set WebSocket headers: send a credential in the hello instead");
    return new WebSocketLink(url);
  },
  listen: null,
};
