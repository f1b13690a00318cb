/**
 * NiftyNet's `DilatedTensor` context: `with DilatedTensor(x, d)` moves x to the batch axis with `space_to_batch`
 * (block d, no padding), runs ordinary convolutions there and moves the result back. That equals running the
 * same convolutions with dilation d on x itself ("same" zero padding; batch-norm statistics over the same
 * elements), which is what we do, through the differentiable dilated `conv`. What remains of the context is its
 * precondition, every spatial size divisible by d, checked here so networks fail where NiftyNet would.
 *
 * @example
 * ```ts
 * const ctx = new DilatedTensor(x, 2); // throws unless every spatial size is even
 * ctx.tensor = block.apply(scope, ctx.tensor); // block built with dilation ctx.dilationFactor
 * ```
 *
 * @module
 */
import type { tf } from "../src/deps.ts";
import { spatialRank } from "./_util.ts";

/** Throws unless every spatial size of `shape` ([batch, …spatial, channels]) is divisible by `dilationFactor`. */
export function checkDilatable(shape: readonly number[], dilationFactor: number, where = "dilated context"): void {
  if (!Number.isInteger(dilationFactor) || dilationFactor < 1) {
    throw new Error(`${where}: dilation factor must be a positive integer, got ${dilationFactor}`);
  }
  const spatial = shape.slice(1, -1);
  if (spatial.some((n) => n % dilationFactor !== 0)) {
    throw new Error(`${where}: spatial size [${spatial}] must be divisible by the dilation factor ${dilationFactor}`);
  }
}

/** A tensor inside a dilated context: layers applied to {@link DilatedTensor.tensor} use {@link dilationFactor}. */
export class DilatedTensor {
  readonly dilationFactor: number;
  tensor: tf.Tensor;

  constructor(tensor: tf.Tensor, dilationFactor: number, { where = "dilated context" }: { where?: string } = {}) {
    spatialRank(tensor, where);
    checkDilatable(tensor.shape, dilationFactor, where);
    this.tensor = tensor;
    this.dilationFactor = dilationFactor;
  }
}
