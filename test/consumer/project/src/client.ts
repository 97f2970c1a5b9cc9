import { createContext } from "spindel";
import { Peer } from "spindel/distributed";
import { add } from "./remote.js";
const url = process.argv[2]!;
const client = await Peer.connect({ id: "client", url });
const sum = await createContext().value(add(client.remote("hub"), 2, 3));
process.stdout.write(`sum=${sum}\n`);
await client.close();
