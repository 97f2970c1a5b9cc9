/**
 * An in-process loop transport for the end-to-end test, standing in for the remote-calls
 * runtime: only the id, the hash and the CBOR-encoded argument values cross the "wire"; the
 * callee looks the definition up by id, checks the hash, and runs the body as a spin in the
 * addressed context.
 */
import { type Context, decodeCbor, encodeCbor, type Spin, spin } from "spindel";
import { lookupRemote, type RemoteDefinition, type RemoteTarget } from "spindel/distributed";

/** Codes the loop transport raises (the same codes as the remote-calls runtime). */
export type LoopErrorCode = "ERR_NO_FUNCTION" | "ERR_VERSION_MISMATCH" | "ERR_NO_CONTEXT";

/** A failure on the callee side of the loop. */
export class LoopCallError extends Error {
  /** @param code stable code @param message what happened */
  constructor(
    readonly code: LoopErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "LoopCallError";
  }
}

interface Frame {
  readonly fn: string;
  readonly hash: string;
  readonly args: unknown[];
  readonly contextId: string | null;
}

/** A {@link RemoteTarget} that serves calls in-process from a set of callee contexts. */
export class LoopTarget implements RemoteTarget {
  /** every frame sent, decoded (what crossed the wire) */
  readonly frames: Frame[] = [];

  /**
   * @param contexts the callee's registered contexts (`default` and any others)
   * @param lookup the callee's registry (override to simulate another build)
   */
  constructor(
    private readonly contexts: ReadonlyMap<string, Context>,
    private readonly lookup: (id: string) => RemoteDefinition | undefined = lookupRemote,
  ) {}

  invokeRemote(
    def: RemoteDefinition,
    args: readonly unknown[],
    contextId: string | undefined,
  ): Spin<unknown> {
    const bytes = encodeCbor({ fn: def.id, hash: def.hash, args: [...args], contextId: contextId ?? null });
    return spin(async () => this.serve(bytes), { name: `call ${def.id}` });
  }

  private async serve(bytes: Uint8Array): Promise<unknown> {
    await Promise.resolve(); // the hop: the callee handles the frame outside the caller's run
    const frame = decodeCbor(bytes) as Frame;
    this.frames.push(frame);
    const def = this.lookup(frame.fn);
    if (def === undefined)
      throw new LoopCallError("ERR_NO_FUNCTION", `no remote body registered as ${frame.fn}`);
    if (def.hash !== frame.hash) {
      throw new LoopCallError(
        "ERR_VERSION_MISMATCH",
        `${frame.fn}: caller runs body ${frame.hash}, callee has ${def.hash}`,
      );
    }
    const ctx = this.contexts.get(frame.contextId ?? "default");
    if (ctx === undefined) throw new LoopCallError("ERR_NO_CONTEXT", `no context ${frame.contextId}`);
    const result = await ctx.value(spin(def.factory(...frame.args), { name: frame.fn }));
    return decodeCbor(encodeCbor(result));
  }
}
