/**
 * Test setup: `FC_SIZE=small|medium|large|xlarge` sets fast-check's base size for every property
 * of the run (`npm run fuzz:seeds` uses it). fast-check's default, "small", keeps generated arrays
 * to about ten elements whatever their `maxLength`; the fork leak fixed on 2026-12-07 needed longer
 * operation sequences than that.
 */
import fc from "fast-check";

const size = process.env.FC_SIZE;
const sizes = ["xsmall", "small", "medium", "large", "xlarge"] as const;
if (size !== undefined && size !== "") {
  const baseSize = sizes.find((s) => s === size);
  if (baseSize === undefined) throw new Error(`FC_SIZE must be one of ${sizes.join(", ")}, got ${size}`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), baseSize });
}
