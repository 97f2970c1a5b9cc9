/**
 * Type-check stand-alone example modules (extracted from the docs) against the sources, as a user
 * of the package would: strict, NodeNext, `spindel` resolved to `src/index.ts`.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const REPO = fileURLToPath(new URL("../", import.meta.url));

/** A type error in one of the checked files. */
export interface TypeProblem {
  /** Absolute path of the file. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** The compiler's message. */
  readonly message: string;
}

/** The type errors of `files` (errors in other files they import are not reported). */
export function typeProblems(files: readonly string[]): TypeProblem[] {
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
    typeRoots: [path.join(REPO, "node_modules/@types")],
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    paths: {
      spindel: [path.join(REPO, "src/index.ts")],
      "spindel/distributed": [path.join(REPO, "src/distributed/index.ts")],
      "spindel/distributed/testing": [path.join(REPO, "src/distributed/testing/index.ts")],
      "spindel/crdt": [path.join(REPO, "src/distributed/crdt/index.ts")],
      "spindel/transform": [path.join(REPO, "src/transform/index.ts")],
      "spindel/vite": [path.join(REPO, "src/transform/vite.ts")],
      "spindel/hub": [path.join(REPO, "src/distributed/hub/index.ts")],
    },
  });
  const ours = new Set(files.map((f) => path.resolve(f)));
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && ours.has(path.resolve(d.file.fileName)))
    .map((d) => ({
      file: path.resolve(d.file!.fileName),
      line: d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line + 1,
      message: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
    }));
}
