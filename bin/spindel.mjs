#!/usr/bin/env node
// The `spindel` command. From an installed package it runs the compiled CLI (dist/); from a
// checkout of the repository it runs the TypeScript source through tsx, so no build step is needed.
// `spindel hub ...` runs the hub (src/distributed/hub/cli.ts); every other command is the
// compiler's CLI (src/transform/cli.ts).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const installed = here.split(path.sep).includes("node_modules");
const argv = process.argv.slice(2);
const isHub = argv[0] === "hub";
const rel = isHub ? ["distributed", "hub", "cli"] : ["transform", "cli"];
const dist = `${path.join(here, "..", "dist", ...rel)}.js`;
const source = `${path.join(here, "..", "src", ...rel)}.ts`;

async function loadSource() {
  const { register } = await import("tsx/esm/api");
  register();
  return import(pathToFileURL(source).href);
}

if (argv.length === 1 && ["--version", "-v", "version"].includes(argv[0])) {
  // answered here, so it works even where the CLI's own dependencies (typescript) are missing
  const pkg = JSON.parse(readFileSync(path.join(here, "..", "package.json"), "utf8"));
  console.log(pkg.version);
} else {
  let cli;
  try {
    if ((installed || !existsSync(source)) && existsSync(dist)) cli = await import(pathToFileURL(dist).href);
    else cli = await loadSource();
  } catch (e) {
    if (e?.code === "ERR_MODULE_NOT_FOUND" && /['"]typescript['"]/.test(String(e.message))) {
      console.error("spindel: the CLI needs the 'typescript' package. Fix: npm install -D typescript");
      process.exit(2);
    }
    throw e;
  }
  if (isHub) {
    // the hub runs until a signal; its connections to Redis and disk are closed by then
    process.exit(await cli.hubMain(argv.slice(1)));
  } else process.exitCode = cli.main(argv);
}
