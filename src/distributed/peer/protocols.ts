/**
 * The seam between a peer's links and the protocols that ride on them (topics, signal sync, store
 * replication). A protocol never sees a socket or a frame: it gets a {@link ProtocolLink} per live
 * link to a remote peer, sends it plain CBOR-encodable payloads, and is told when the link goes.
 * The peer frames each payload as `[8, protocol, payload]` and routes inbound ones by name.
 * @module
 */

/** One live link to a remote peer, as a protocol sees it. */
export interface ProtocolLink {
  /** The remote peer's id (from its hello). */
  readonly peerId: string;
  /**
   * Who the remote is, as this peer's `authenticate` decided (listener side); on a link this peer
   * dialed, the remote's id.
   */
  readonly principal: unknown;
  /** True when this peer dialed the link (the remote is its upstream / hub). */
  readonly dialed: boolean;
  /**
   * Sends one payload to this protocol on the remote. Returns false when the link is already
   * closed (the payload is dropped; `linkDown` follows or has happened). Throws a `RemoteError`
   * with code `ERR_LIMIT` when the encoded payload is over the remote's frame limits; the link
   * stays open.
   */
  send(payload: unknown): boolean;
  /**
   * True on a link that was already up when the protocol was attached, if the remote had sent it
   * payloads before: they were dropped here (see {@link ProtocolHost}), so the remote may still be
   * waiting for an answer. Best effort (a host may not track it).
   */
  readonly missed?: boolean;
}

/** What a protocol implements to ride on a peer's links. */
export interface ProtocolHandler {
  /** A link finished its hello (or the protocol was attached while it was up). */
  linkUp(link: ProtocolLink): void;
  /** The link closed; no more messages arrive on it and `send` returns false. */
  linkDown(link: ProtocolLink): void;
  /** A payload this protocol's counterpart on `link` sent. Called in arrival order per link. */
  message(link: ProtocolLink, payload: unknown): void;
}

/**
 * The part of a peer that protocols use: `Peer` implements it. `attachProtocol` calls `linkUp`
 * at once for every link already up; the returned function detaches (no `linkDown` calls).
 * A payload for a protocol nobody attached is answered with a connection-level error frame
 * (`ERR_NO_FUNCTION`, counted as a protocol error), never silently dropped.
 */
export interface ProtocolHost {
  /** This peer's id. */
  readonly id: string;
  /** Attach a protocol by name (one handler per name; attaching a second throws `ERR_INVALID_ARGUMENT`). */
  attachProtocol(name: string, handler: ProtocolHandler): () => void;
}
