/**
 * The session over one {@link Link} between two peers: framing, the handshake state, the tables of
 * pending outgoing calls and running incoming calls, heartbeats, and a close that settles
 * everything. It never sees a socket. What to do with frames (authenticate, run bodies, protocol
 * payloads) is up to the {@link ConnectionHost}.
 * @module
 */

import { isRemoteErrorCode, RemoteError, type RemoteErrorCode } from "./errors.js";
import { checkCbor, type WireLimits } from "./limits.js";
import type { Link } from "./net/link.js";
import type { UpgradeRequest } from "./net/link-socket.js";
import {
  decodeFrame,
  type ErrorFrame,
  encodeFrame,
  encodeLegacyError,
  type Frame,
  FrameError,
  FrameType,
  type HelloFrame,
  type InvokeFrame,
  messageOf,
  type ProtocolFrame,
  peekFrameHead,
} from "./wire.js";

/** A pending outgoing call, settled by the connection. */
export interface OutgoingCall {
  /** The result frame arrived. */
  onResult(value: unknown): void;
  /** An error frame arrived, or the connection failed the call. */
  onError(error: RemoteError): void;
}

/** What a connection asks of the peer that owns it. */
export interface ConnectionHost {
  /** Our peer id. */
  readonly id: string;
  /** Limits for every connection. */
  readonly limits: WireLimits;
  /** A `hello` arrived during the handshake. */
  onHello(conn: Connection, frame: HelloFrame): void;
  /** An `error` frame arrived during the handshake (the other side refused us). */
  onRefused(conn: Connection, frame: ErrorFrame): void;
  /** An `invoke` arrived on an open connection. */
  onInvoke(conn: Connection, frame: InvokeFrame): void;
  /** A protocol payload arrived on an open connection. */
  onProtocol(conn: Connection, frame: ProtocolFrame): void;
  /** The connection closed (after it failed its pending calls). */
  onClosed(conn: Connection, code: number, reason: string): void;
  /** Bytes waiting in the send buffers of all this peer's links. */
  bufferedTotal(): number;
  /** Something worth reporting (protocol errors, connection-level error frames). */
  report(error: unknown, where: string): void;
}

/** Close codes used by spindel (besides the standard 1000/1001/1006/1009). */
export const CloseCode = {
  /** Normal closure. */
  Normal: 1000,
  /** The peer is shutting down. */
  GoingAway: 1001,
  /** Protocol error (bad hello, too many malformed frames). */
  Protocol: 1002,
  /** A frame over `maxFrameBytes` (what `ws` sends on its own in Node). */
  TooLarge: 1009,
  /** Policy: unauthorized, no hello in time, send buffer overflow. */
  Policy: 1008,
  /** Replaced by a newer connection from the same peer id. */
  Replaced: 4000,
  /** Heartbeat: no pong in time. */
  Heartbeat: 4001,
} as const;

/** Handshake, open, or closed. */
export type ConnectionState = "handshake" | "open" | "closed";

/** State of one call the other side runs here. */
export interface IncomingCall {
  /** Cancel the running body (`reason`: why). Idempotent. */
  cancel(reason: "cancel" | "timeout" | "disconnect"): void;
}

/** Answers of abandoned calls remembered per connection. */
const MAX_ABANDONED = 4096;
/** Ping frames answered per second; more count as protocol errors (a heartbeat is one per interval). */
const MAX_PINGS_PER_SECOND = 10;
/** Reports per connection per window (the rest are counted, then summed up in one report). */
const REPORTS_PER_WINDOW = 20;
/** The report window in ms. */
const REPORT_WINDOW_MS = 10_000;

/** A link's backlog above which the total over all links is checked. */
const TOTAL_CHECK_BYTES = 64 * 1024;

/** The session over one link to another peer. */
export class Connection {
  /** The other peer's id (known once its hello arrived). */
  remoteId = "";
  /** What `authenticate` returned for this connection (listener side). */
  principal: unknown = undefined;
  /** Handshake state. */
  state: ConnectionState = "handshake";
  /** Calls we sent and await, by request id. */
  readonly outgoing = new Map<number, OutgoingCall>();
  /** Calls the other side runs here, by its request id. */
  readonly incoming = new Map<number, IncomingCall>();
  /** Slots taken by the other side's calls: answered ones whose body still runs count too. */
  busy = 0;
  /**
   * Ids of calls we gave up on (timed out, cancelled) whose answer may still be on its way: such an
   * answer is dropped quietly; an answer to an id that is neither pending nor here is counted as a
   * protocol error. Bounded (oldest dropped first).
   */
  private readonly abandoned = new Set<number>();
  /** Ping frames received in the current second (a flood counts as protocol errors). */
  private pings = 0;
  private pingWindow = 0;
  /** Reports in the current window and how many were suppressed (see {@link report}). */
  private reports = 0;
  private suppressed = 0;
  private reportWindow = 0;
  /** The other side's limits (from its hello; until then, ours). */
  remoteLimits: WireLimits;
  /** Why the connection closed (set once closed). */
  closeReason = "";
  /** Close code (set once closed). */
  closeCode = 0;
  private nextId = 0;
  /** A dialed link opened (the dialer sends its hello then). */
  onOpen: (() => void) | null = null;
  private protocolErrors = 0;
  private alive = true;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private beatMs = 0;
  /** Heartbeats as `ping`/`pong` frames (a browser cannot send WebSocket pings). */
  private beatFrames = false;
  private lastBeat = 0;
  private handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  private failCode: RemoteErrorCode = "ERR_DISCONNECTED";
  private readonly closed: Promise<void>;
  private resolveClosed!: () => void;

  /**
   * @param host the owning peer
   * @param link an open (listener side) or connecting (dialer side) link
   * @param inbound true when our listener accepted it
   * @param request the HTTP upgrade request (listener side, where the transport has one)
   */
  constructor(
    readonly host: ConnectionHost,
    readonly link: Link,
    readonly inbound: boolean,
    readonly request: UpgradeRequest | undefined,
  ) {
    this.remoteLimits = host.limits;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    link.start({
      open: () => this.onOpen?.(),
      message: (data) => this.onMessage(data),
      pong: () => {
        this.alive = true;
      },
      error: (err) => {
        // close follows; remember why
        if (this.closeReason === "") this.closeReason = messageOf(err);
      },
      close: (code, reason) => this.onSocketClosed(code, reason),
    });
  }

  /** Resolves once the socket is closed and every call was settled. */
  whenClosed(): Promise<void> {
    return this.closed;
  }

  /** Close the socket if the handshake does not complete within `ms`. */
  armHandshakeTimeout(ms: number, what: string): void {
    if (!Number.isFinite(ms)) return;
    this.handshakeTimer = setTimeout(() => {
      this.handshakeTimer = null;
      if (this.state === "handshake") this.close(CloseCode.Policy, `${what} within ${ms} ms`);
    }, ms);
  }

  /**
   * The handshake completed: the connection carries calls from now on. Every `heartbeatMs` it
   * checks that something arrived since the last beat (else it drops the link) and sends a ping:
   * the link's own ping where it has one (`ws`), else a `ping` frame (a browser, the in-memory link).
   */
  markOpen(remoteId: string, heartbeatMs: number): void {
    this.remoteId = remoteId;
    this.state = "open";
    this.beatFrames = !this.link.canPing;
    if (this.handshakeTimer !== null) {
      clearTimeout(this.handshakeTimer);
      this.handshakeTimer = null;
    }
    if (heartbeatMs > 0 && Number.isFinite(heartbeatMs)) {
      this.beatMs = heartbeatMs;
      this.lastBeat = performance.now();
      this.heartbeat = setInterval(() => this.beat(), heartbeatMs);
    }
  }

  private beat(): void {
    if (this.state !== "open") return;
    const now = performance.now();
    // a beat that fires late means our own event loop was blocked: the pong may be queued behind
    // this timer, so it does not count as a miss
    const late = now - this.lastBeat > 1.5 * this.beatMs;
    this.lastBeat = now;
    if (!this.alive && !late) {
      this.drop("heartbeat: no pong in time");
      return;
    }
    this.alive = false;
    if (this.beatFrames) {
      this.send({ type: "ping" });
      return;
    }
    this.link.ping();
  }

  /** A fresh request id for an outgoing call (wraps within [1, 2^31)). */
  allocId(): number {
    for (;;) {
      this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
      if (!this.outgoing.has(this.nextId) && !this.abandoned.has(this.nextId)) return this.nextId;
    }
  }

  /**
   * Report through the host, at most {@link REPORTS_PER_WINDOW} per {@link REPORT_WINDOW_MS} on
   * this connection; the rest are counted and summed up in the next window's first report.
   */
  report(error: unknown, where: string): void {
    const now = performance.now();
    if (now - this.reportWindow > REPORT_WINDOW_MS) {
      this.reportWindow = now;
      this.reports = 0;
      if (this.suppressed > 0) {
        const n = this.suppressed;
        this.suppressed = 0;
        this.reports++;
        this.host.report(
          new RemoteError("ERR_PROTOCOL", `${n} more reports about peer '${this.remoteId}' were suppressed`, {
            peer: this.remoteId || undefined,
          }),
          where,
        );
      }
    }
    if (this.reports >= REPORTS_PER_WINDOW) {
      this.suppressed++;
      return;
    }
    this.reports++;
    this.host.report(error, where);
  }

  /**
   * Encode and send a frame. Returns false when the connection is closed. Throws a
   * {@link RemoteError} `ERR_NOT_SERIALIZABLE` when the frame cannot be encoded, `ERR_LIMIT` when
   * it is over the other side's limits (nothing is sent; the link stays up).
   */
  send(frame: Frame): boolean {
    if (this.state === "closed") return false;
    return this.sendBytes(this.encode(frame));
  }

  /**
   * Encode a frame and check it against the other side's limits (from its hello), so a frame the
   * other side would refuse fails here, for its call alone. Throws like {@link send}.
   */
  encode(frame: Frame): Uint8Array {
    const bytes = encodeFrame(frame);
    const limits = this.remoteLimits;
    if (bytes.length > limits.maxFrameBytes)
      throw new RemoteError(
        "ERR_LIMIT",
        `${frame.type} frame of ${bytes.length} bytes is over the maxFrameBytes ${limits.maxFrameBytes} of peer '${this.remoteId}'`,
        { peer: this.remoteId || undefined },
      );
    // only frames with a payload can break the structure limits
    if (
      frame.type === "invoke" ||
      frame.type === "result" ||
      frame.type === "protocol" ||
      frame.type === "error"
    ) {
      try {
        checkCbor(bytes, limits);
      } catch (err) {
        const e = err instanceof RemoteError ? err : new RemoteError("ERR_LIMIT", messageOf(err));
        throw new RemoteError(
          e.code,
          `${frame.type} frame is over the limits of peer '${this.remoteId}': ${e.message}`,
          {
            peer: this.remoteId || undefined,
          },
        );
      }
    }
    return bytes;
  }

  /**
   * Send encoded bytes. Returns false when the connection is closed. The link may coalesce writes
   * (the `ws` adapter corks the TCP stream until the next tick); when the buffered bytes pass
   * `maxBufferedBytes`, the link is flushed first and the limit is judged on what the network did
   * not take.
   */
  sendBytes(bytes: Uint8Array): boolean {
    if (this.state === "closed" || this.link.readyState !== 1) return false;
    this.link.send(bytes);
    const limit = this.host.limits.maxBufferedBytes;
    if (this.link.bufferedAmount > limit) {
      this.link.flush();
      if (this.link.bufferedAmount > limit) {
        this.close(CloseCode.Policy, "send buffer overflow: the other side does not read");
        return false;
      }
    }
    // the total over all links is summed only when this link holds a noticeable backlog
    if (this.link.bufferedAmount > TOTAL_CHECK_BYTES) {
      const total = this.host.limits.maxBufferedBytesTotal;
      if (this.host.bufferedTotal() > total) {
        this.link.flush();
        if (this.host.bufferedTotal() > total) {
          this.close(
            CloseCode.Policy,
            `send buffers of all links over maxBufferedBytesTotal ${total}: this link's reader is too slow`,
          );
          return false;
        }
      }
    }
    return true;
  }

  /** Send an error frame, falling back to one without `data` when `data` cannot be encoded. */
  sendError(frame: ErrorFrame): boolean {
    try {
      return this.send(frame);
    } catch {
      const { data: _dropped, ...rest } = frame;
      try {
        return this.send({ ...rest, message: `${rest.message} (error data not serializable)` });
      } catch {
        return false;
      }
    }
  }

  /** Ask the other side to cancel our call `id` (best effort); its answer may still come, and is dropped. */
  sendCancel(id: number): void {
    this.abandoned.add(id);
    if (this.abandoned.size > MAX_ABANDONED) {
      const oldest = this.abandoned.values().next().value as number;
      this.abandoned.delete(oldest);
    }
    try {
      this.send({ type: "cancel", id });
    } catch {
      // cannot happen (a cancel frame always encodes)
    }
  }

  /** Report a protocol violation to the other side; close after too many. */
  protocolError(code: RemoteErrorCode, message: string, closeNow = false, id?: number): void {
    this.countProtocolError(code, message);
    const frame: ErrorFrame = { type: "error", code, name: "RemoteError", message };
    if (id !== undefined) frame.id = id;
    this.sendError(frame);
    if (closeNow) this.close(CloseCode.Protocol, truncateReason(message));
    else this.closeIfTooMany();
  }

  /** Count (and report) a protocol violation without answering it. */
  private countProtocolError(code: RemoteErrorCode, message: string): void {
    this.protocolErrors++;
    this.report(new RemoteError(code, message, { peer: this.remoteId || undefined }), "protocol");
  }

  /** An answer (result or error) to `id` that no call of ours awaits. */
  private strayAnswer(id: number, what: string): void {
    if (this.abandoned.has(id)) return; // a late answer of a call we gave up on (kept until evicted)
    this.countProtocolError("ERR_PROTOCOL", `${what} for request id ${id}, which no call awaits`);
    this.closeIfTooMany();
  }

  private closeIfTooMany(): void {
    if (this.protocolErrors > this.host.limits.maxProtocolErrors && this.state !== "closed")
      this.close(CloseCode.Protocol, "too many malformed frames");
  }

  /**
   * A frame refused by our limits that answers our outgoing call `id` (a result or an error): that
   * call fails with the refusal; the link stays up (the violation is counted).
   */
  private refuseAnswer(id: number, code: RemoteErrorCode, message: string): void {
    this.countProtocolError(code, message);
    const call = this.outgoing.get(id);
    if (call !== undefined) {
      this.outgoing.delete(id);
      call.onError(
        new RemoteError(code, `the answer from peer '${this.remoteId}' was refused: ${message}`, {
          peer: this.remoteId,
        }),
      );
    }
    this.closeIfTooMany();
  }

  /** A frame over our limits: answer it to its call when its head is readable, else close. */
  private onOversize(bytes: Uint8Array): void {
    const max = this.host.limits.maxFrameBytes;
    const message = `frame of ${bytes.length} bytes over maxFrameBytes ${max}`;
    const head = this.state === "open" ? peekFrameHead(bytes) : null;
    if (head === null || head.id === undefined) {
      this.close(CloseCode.TooLarge, message);
      return;
    }
    if (head.type === FrameType.invoke) this.protocolError("ERR_LIMIT", message, false, head.id);
    else this.refuseAnswer(head.id, "ERR_LIMIT", message);
  }

  /**
   * A protocol 1 frame during the handshake. A listener answers in the protocol 1 layout (so the
   * old dialer reads why, and stops) and closes; a dialer takes it as a final refusal (no retry).
   */
  private refuseLegacy(message: string): void {
    this.report(new RemoteError("ERR_PROTOCOL", message, { peer: this.remoteId || undefined }), "protocol");
    if (this.inbound) {
      this.sendBytes(encodeLegacyError(message));
      this.close(CloseCode.Protocol, truncateReason(message));
    } else {
      this.host.onRefused(this, { type: "error", code: "ERR_PROTOCOL", name: "RemoteError", message });
    }
  }

  private onMessage(data: Uint8Array | string): void {
    if (this.state === "closed") return;
    this.alive = true; // any traffic proves the other side is there
    if (typeof data === "string") {
      this.protocolError("ERR_PROTOCOL", "text frames are not supported: send binary CBOR frames");
      return;
    }
    const bytes = data;
    if (bytes.length > this.host.limits.maxFrameBytes) {
      // the link itself takes up to twice maxFrameBytes, so one oversize call fails alone
      this.onOversize(bytes);
      return;
    }
    let frame: Frame;
    try {
      frame = decodeFrame(bytes, this.host.limits);
    } catch (err) {
      const fe =
        err instanceof FrameError
          ? err
          : new FrameError("ERR_PROTOCOL", `bad frame: ${messageOf(err)}`, undefined);
      if (fe.legacy && this.state === "handshake") {
        this.refuseLegacy(fe.message);
        return;
      }
      const id = this.state === "open" ? fe.requestId : undefined;
      if (id !== undefined && (fe.frameType === FrameType.result || fe.frameType === FrameType.error)) {
        this.refuseAnswer(id, fe.code, fe.message);
        return;
      }
      this.protocolError(fe.code, fe.message, this.state === "handshake", id);
      return;
    }
    try {
      this.dispatch(frame);
    } catch (err) {
      // a host hook threw: never let it escape into ws (it would be an uncaught exception)
      this.host.report(err, "dispatch");
    }
  }

  private dispatch(frame: Frame): void {
    if (this.state === "handshake") {
      if (frame.type === "hello") this.host.onHello(this, frame);
      else if (frame.type === "error" && !this.inbound) this.host.onRefused(this, frame);
      else this.protocolError("ERR_PROTOCOL", `expected a hello frame first, got ${frame.type}`, true);
      return;
    }
    switch (frame.type) {
      case "invoke":
        this.host.onInvoke(this, frame);
        return;
      case "protocol":
        this.host.onProtocol(this, frame);
        return;
      case "result": {
        const call = this.outgoing.get(frame.id);
        if (call === undefined) {
          this.strayAnswer(frame.id, "a result");
          return;
        }
        this.outgoing.delete(frame.id);
        call.onResult(frame.value);
        return;
      }
      case "error": {
        if (frame.id === undefined) {
          // the other side says we misbehaved: counted like our own findings, reports rate-limited
          this.protocolErrors++;
          this.report(
            new RemoteError(frame.code, frame.message, {
              name: frame.name,
              data: frame.data,
              peer: this.remoteId,
            }),
            "remote",
          );
          this.closeIfTooMany();
          return;
        }
        const call = this.outgoing.get(frame.id);
        if (call === undefined) {
          this.strayAnswer(frame.id, "an error");
          return;
        }
        this.outgoing.delete(frame.id);
        call.onError(
          new RemoteError(isRemoteErrorCode(frame.code) ? frame.code : "ERR_REMOTE_THROWN", frame.message, {
            name: frame.name,
            data: frame.data,
            peer: this.remoteId,
            remoteCode: frame.remoteCode,
            remoteStack: frame.stack,
          }),
        );
        return;
      }
      case "cancel":
        this.incoming.get(frame.id)?.cancel("cancel");
        return;
      case "ping": {
        const now = performance.now();
        if (now - this.pingWindow > 1000) {
          this.pingWindow = now;
          this.pings = 0;
        }
        if (++this.pings > MAX_PINGS_PER_SECOND) {
          this.countProtocolError(
            "ERR_PROTOCOL",
            `more than ${MAX_PINGS_PER_SECOND} ping frames in a second`,
          );
          this.closeIfTooMany();
          return;
        }
        this.send({ type: "pong" });
        return;
      }
      case "pong":
        return; // `alive` is already set
      case "hello":
        this.protocolError("ERR_PROTOCOL", "unexpected hello: the handshake is already complete");
        return;
    }
  }

  /**
   * Close the connection: send a close frame, fail pending calls with `failCode` (default
   * `ERR_DISCONNECTED`) as soon as the socket is closed, cancel incoming calls.
   */
  close(code: number, reason: string, failCode: RemoteErrorCode = "ERR_DISCONNECTED"): void {
    if (this.state === "closed") return;
    this.failCode = failCode;
    if (this.closeReason === "") this.closeReason = reason;
    // settle everything now: a closing socket carries no more results
    this.finish(code, reason);
    const rs = this.link.readyState;
    try {
      if (rs === 0) this.link.terminate();
      else if (rs === 1) this.link.close(code, truncateReason(reason));
    } catch {
      this.link.terminate();
    }
  }

  /** Destroy the socket at once (no close handshake); pending calls fail with `ERR_DISCONNECTED` now. */
  drop(reason: string): void {
    if (this.closeReason === "") this.closeReason = reason;
    this.finish(1006, reason);
    this.link.terminate();
  }

  private onSocketClosed(code: number, reason: string): void {
    if (this.state !== "closed") this.finish(code, reason || this.closeReason || describeClose(code));
    this.resolveClosed();
  }

  private finish(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closeCode = code;
    if (this.closeReason === "") this.closeReason = reason;
    if (this.heartbeat !== null) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
    if (this.handshakeTimer !== null) {
      clearTimeout(this.handshakeTimer);
      this.handshakeTimer = null;
    }
    if (this.outgoing.size > 0) {
      const calls = [...this.outgoing.values()];
      this.outgoing.clear();
      const why = this.closeReason || describeClose(code);
      for (const call of calls) {
        call.onError(
          new RemoteError(
            this.failCode,
            this.failCode === "ERR_CLOSED"
              ? "the local peer was closed"
              : `connection to peer '${this.remoteId}' closed (${code}: ${why}) while the call was pending`,
            { peer: this.remoteId },
          ),
        );
      }
    }
    if (this.incoming.size > 0) {
      const calls = [...this.incoming.values()];
      this.incoming.clear();
      for (const call of calls) call.cancel("disconnect");
    }
    try {
      this.host.onClosed(this, code, this.closeReason);
    } catch (err) {
      this.host.report(err, "close");
    }
  }
}

const utf8 = new TextEncoder();

/** A close reason must fit in 123 bytes of UTF-8. */
export function truncateReason(reason: string): string {
  if (utf8.encode(reason).length <= 123) return reason;
  let s = reason.slice(0, 120);
  while (utf8.encode(s).length > 120) s = s.slice(0, -1);
  return `${s}...`;
}

function describeClose(code: number): string {
  switch (code) {
    case 1000:
      return "normal closure";
    case 1001:
      return "going away";
    case 1002:
      return "protocol error";
    case 1006:
      return "connection lost";
    case 1008:
      return "policy violation";
    case 1009:
      return "frame too large";
    default:
      return "closed";
  }
}
