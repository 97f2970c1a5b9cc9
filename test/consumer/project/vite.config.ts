import { defineConfig } from "vite";
import spindel from "spindel/vite";
export default defineConfig({ plugins: [spindel()], build: { target: "es2022", outDir: "web-dist" } });
