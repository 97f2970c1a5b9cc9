#!/usr/bin/env node
// The `spindel` command. From an installed package it runs the compiled CLI (dist/); from a
// checkout of the repository it runs the TypeScript source through tsx, so no build step is needed.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "..", "dist", "transform", "cli.js");
const source = path.join(here, "..", "src", "transform", "cli.ts");
const installed = here.split(path.sep).includes("node_modules");

async function loadSource() {
  const { register } = await import("tsx/esm/api");
  register();
  return import(pathToFileURL(source).href);
}

let cli;
if ((installed || !existsSync(source)) && existsSync(dist)) cli = await import(pathToFileURL(dist).href);
else cli = await loadSource();
process.exitCode = cli.main(process.argv.slice(2));
