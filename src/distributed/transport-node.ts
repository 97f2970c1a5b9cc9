/**
 * The Node transport: links over `ws`, listening on `node:http` servers. Importing this module
 * installs it.
 * @module
 */
import { wsTransport } from "./net/adapters/ws-node.js";
import { installTransport } from "./transport.js";

/** `ws` and `node:http`. */
export const nodeTransport = wsTransport;

installTransport(nodeTransport);
