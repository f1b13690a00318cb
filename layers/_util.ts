import type { tf } from "../src/deps.ts";

/** Number of spatial dimensions of a channels-last batch tensor ([N, …spatial, C]); 2D and 3D supported. */
export function spatialRank(x: tf.Tensor, layer: string): 2 | 3 {
  const rank = x.rank - 2;
  if (rank !== 2 && rank !== 3) {
    throw new Error(
      `${layer}: expected a [batch, …spatial, channels] tensor with 2 or 3 spatial dims, got [${x.shape}]`,
    );
  }
  return rank;
}

/** Expands a scalar spatial parameter (kernel size, stride, dilation) to one value per spatial dim. */
export function expandSpatial(value: number | readonly number[], rank: number, what: string): number[] {
  const out = typeof value === "number" ? Array(rank).fill(value) : [...value];
  if (out.length !== rank || out.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(`${what} must be a positive integer or ${rank} of them, got ${JSON.stringify(value)}`);
  }
  return out;
}
