/**
 * The Node transport: client sockets and servers from `ws`, HTTP servers from `node:http`.
 * Importing this module installs it.
 * @module
 */
import { createServer } from "node:http";
import { WebSocket, WebSocketServer } from "ws";
import { installTransport, type Transport } from "./transport.js";

/** `ws` and `node:http`. */
export const nodeTransport: Transport = {
  name: "node",
  wsPings: true,
  connect: (url, opts) =>
    new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: opts.maxPayload,
      handshakeTimeout: opts.handshakeTimeout,
      headers: opts.headers,
    }),
  server: { WebSocketServer, createServer },
};

installTransport(nodeTransport);
