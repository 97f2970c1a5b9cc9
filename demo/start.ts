/**
 * `npm start`: builds the demo app, then runs the hub with its default store (./spindel-data)
 * serving the demo. Extra arguments go to `spindel hub` (e.g. `npm start -- --port 9000`).
 */
import { hubMain } from "../src/distributed/hub/cli.js";
import { buildDemo } from "./build.js";

const dir = await buildDemo();
process.exit(await hubMain(["--static", dir, ...process.argv.slice(2)]));
