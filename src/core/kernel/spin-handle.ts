/**
 * What the kernel knows of a spin handle: a stable id. The public `Spin` extends it; its body,
 * options and `then` belong to the surface.
 * @module
 */
import { Brand, nextUid, SOURCE_KIND } from "./brand.js";

/** Base of every spin handle: `$.track`/`$.await` tell a spin from other arguments by it. */
export abstract class SpinHandle {
  /** Stable address of the spin. */
  abstract readonly id: string;
  /** @internal process-unique number of this handle, negative while its id is not its own alone (see {@link nextUid}) */
  _uid: number = -nextUid();
}

(SpinHandle.prototype as { [SOURCE_KIND]?: number })[SOURCE_KIND] = Brand.SPIN_SOURCE;
