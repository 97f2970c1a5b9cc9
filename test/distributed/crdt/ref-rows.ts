/**
 * The row-per-op encoder of converge's ref log as it was before the columnar format (copied
 * unchanged from src/distributed/crdt/ref.ts at the commit that pinned its fixtures): it writes
 * `[actors, rows]`, the data that sits in users' stores. Tests use it to make old-format data from
 * random logs and to compare sizes; the library only reads this format now.
 */
import type { RefOp } from "spindel/crdt";

const ROOT = "0:";

function idStr(id: readonly [number, string]): string {
  return `${id[0]}:${id[1]}`;
}

/**
 * Compact plain data for ops: an actor table and one row per op,
 * `[kind, counter, actor, ...refs as counter/actor pairs, key or value]`; a run of scalar inserts
 * by one actor, each right after the one before with the next counter (typing, appending), is
 * one row holding the values.
 */
export function encodeRefRows(ops: readonly RefOp[]): unknown {
  const actors: string[] = [];
  const index = new Map<string, number>();
  const ai = (a: string): number => {
    let i = index.get(a);
    if (i === undefined) {
      i = actors.length;
      actors.push(a);
      index.set(a, i);
    }
    return i;
  };
  const ref = (s: string | null): [number, number] => {
    if (s === null || s === ROOT) return [0, 0];
    const at = s.indexOf(":");
    return [Number(s.slice(0, at)), ai(s.slice(at + 1))];
  };
  const rows: unknown[][] = [];
  // a run: scalar inserts by one actor with consecutive counters, each after the one before
  let run: { row: unknown[]; values: unknown[]; last: RefOp & { op: "ins" } } | null = null;
  for (const op of ops) {
    if (
      run !== null &&
      op.op === "ins" &&
      op.node === undefined &&
      op.id[1] === run.last.id[1] &&
      op.id[0] === run.last.id[0] + 1 &&
      op.obj === run.last.obj &&
      op.after === idStr(run.last.id)
    ) {
      run.values.push(op.value);
      run.last = op;
      continue;
    }
    const row = rowOf(op);
    if (op.op === "ins" && op.node === undefined) {
      const values = [op.value];
      row[0] = 8;
      row[row.length - 1] = values;
      run = { row, values, last: op };
    } else run = null;
    rows.push(row);
  }
  return [actors, rows];

  function rowOf(op: RefOp): unknown[] {
    const head = [op.id[0], ai(op.id[1])];
    switch (op.op) {
      case "map":
        return [0, ...head];
      case "list":
        return [1, ...head];
      case "set":
        return op.node !== undefined
          ? [3, ...head, ...ref(op.obj), op.key, ...ref(op.node)]
          : [2, ...head, ...ref(op.obj), op.key, op.value];
      case "del":
        return [4, ...head, ...ref(op.obj), op.key];
      case "ins":
        return op.node !== undefined
          ? [6, ...head, ...ref(op.obj), ...ref(op.after), ...ref(op.node)]
          : [5, ...head, ...ref(op.obj), ...ref(op.after), op.value];
      default:
        return [7, ...head, ...ref(op.obj), ...ref(op.elem)];
    }
  }
}
