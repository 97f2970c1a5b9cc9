/**
 * The browser's WebSocket behind the small part of the `ws` client API a connection uses
 * (`on(event)`, `send`, `close`, `terminate`, `readyState`, `bufferedAmount`), so the same
 * connection code runs in Node and in browsers.
 * @module
 */

type Listener = (...args: never[]) => void;

/** A browser `WebSocket`, shaped like a `ws` client socket. */
export class BrowserSocket {
  private readonly ws: WebSocket;
  private readonly listeners = new Map<string, Listener[]>();
  private closedEmitted = false;

  /** @param url a `ws://` or `wss://` URL */
  constructor(url: string) {
    const Ctor = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
    if (Ctor === undefined) throw new Error("this platform has no WebSocket");
    this.ws = new Ctor(url);
    this.ws.binaryType = "arraybuffer";
    this.ws.addEventListener("open", () => this.emit("open"));
    this.ws.addEventListener("message", (ev: MessageEvent) =>
      this.emit("message", ev.data as ArrayBuffer | string, typeof ev.data !== "string"),
    );
    this.ws.addEventListener("error", () => this.emit("error", new Error("WebSocket error")));
    this.ws.addEventListener("close", (ev: CloseEvent) => this.emitClose(ev.code, ev.reason));
  }

  /** `ws` sets `"nodebuffer"`; a browser socket always delivers `ArrayBuffer`s. */
  set binaryType(_t: string) {}

  /** 0 connecting, 1 open, 2 closing, 3 closed (as in `ws`). */
  get readyState(): number {
    return this.ws.readyState;
  }

  /** Bytes queued by `send` and not yet handed to the network. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Listen to `open`, `message (data, isBinary)`, `error (err)`, `close (code, reason)`; `pong` never fires. */
  on(event: string, listener: Listener): this {
    const ls = this.listeners.get(event);
    if (ls === undefined) this.listeners.set(event, [listener]);
    else ls.push(listener);
    return this;
  }

  /** Send one binary message. */
  send(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  /** Browsers cannot send pings (the listener pings us; the browser answers on its own). */
  ping(): void {}

  /** Close. Browsers only let a page send 1000 or 3000–4999: other codes go as 1000 with the reason. */
  close(code: number, reason: string): void {
    this.ws.close(code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, reason);
  }

  /** Close without waiting: `close` is reported now (1006), as `ws.terminate()` does. */
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
    this.emit("close", code, reason);
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const l of this.listeners.get(event) ?? []) (l as (...a: unknown[]) => void)(...args);
  }
}
