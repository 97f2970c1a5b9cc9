import { createContext } from "spindel";
import { Peer } from "spindel/distributed";
import "./remote.js";
const hub = await Peer.listen({ id: "hub", port: 0, context: createContext() });
process.stdout.write(`${hub.url}\n`);
process.stdin.resume();
process.stdin.on("end", () => void hub.close());
