/**
 * NiftyNet's `CropLayer`: removes `border` voxels from both ends of every spatial axis (the centre remains).
 * NiftyNet does it with a one-hot "valid" convolution per channel; a slice gives the same numbers. No variables.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { spatialRank } from "./_util.ts";

/** Crops `border` voxels off each side of each spatial axis. */
export class CropLayer extends Layer {
  readonly border: number;

  constructor(border: number, { name = "crop" }: { name?: string } = {}) {
    super(name);
    if (!Number.isInteger(border) || border < 0) {
      throw new Error(`${name}: border must be a non-negative integer, got ${border}`);
    }
    this.border = border;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const rank = spatialRank(x, scope.path);
    const spatial = x.shape.slice(1, 1 + rank);
    if (spatial.some((n) => n <= 2 * this.border)) {
      throw new Error(
        `${scope.path}: cannot crop ${this.border} voxels from each side of spatial size [${spatial}]: ` +
          `every spatial size must exceed ${2 * this.border}`,
      );
    }
    if (this.border === 0) return tf.clone(x);
    const begin = [0, ...spatial.map(() => this.border), 0];
    const size = [-1, ...spatial.map((n) => n - 2 * this.border), -1];
    return tf.slice(x, begin, size);
  }
}
