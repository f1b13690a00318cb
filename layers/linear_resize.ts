/**
 * Linear resizing, NiftyNet's `LinearResizeLayer` (scope `trilinear_resize`): bilinear (2D) or trilinear (3D) with
 * TensorFlow 1's `resize_bilinear` sampling (no corner alignment, no half-pixel centres) unless asked otherwise.
 * 3D goes through `resize3d`, which has gradients. No variables.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { registerKernelFixes, resize3d } from "../src/kernels/mod.ts";
import { expandSpatial, spatialRank } from "./_util.ts";

/** Sampling options of a linear or nearest resize. */
export interface ResizeOptions {
  readonly alignCorners?: boolean;
  readonly halfPixelCenters?: boolean;
}

/** Resizes a 2D/3D channels-last batch to `size` (one value for all spatial axes, or one per axis). */
export function linearResize(
  x: tf.Tensor,
  size: number | readonly number[],
  { alignCorners = false, halfPixelCenters = false, method = "linear" }: ResizeOptions & {
    method?: "linear" | "nearest";
  } = {},
): tf.Tensor {
  // The corrected 2D resize gradients (tfjs's ignore halfPixelCenters and mislabel non-square shapes on cpu).
  registerKernelFixes();
  const rank = spatialRank(x, "resize");
  const target = expandSpatial(size, rank, "resize: new size");
  if (target.every((s, i) => s === x.shape[i + 1])) return x;
  if (rank === 3) {
    return resize3d(x as tf.Tensor5D, target as [number, number, number], {
      method: method === "linear" ? "trilinear" : "nearest",
      alignCorners,
      halfPixelCenters,
    });
  }
  const to = target as [number, number];
  return method === "linear"
    ? tf.image.resizeBilinear(x as tf.Tensor4D, to, alignCorners, halfPixelCenters)
    : tf.image.resizeNearestNeighbor(x as tf.Tensor4D, to, alignCorners, halfPixelCenters);
}

/** Layer form of {@link linearResize}. */
export class LinearResizeLayer extends Layer {
  readonly newSize: number | readonly number[];
  readonly options: ResizeOptions;

  constructor(newSize: number | readonly number[], options: ResizeOptions & { name?: string } = {}) {
    super(options.name ?? "trilinear_resize");
    this.newSize = newSize;
    this.options = options;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    spatialRank(x, scope.path);
    const out = linearResize(x, this.newSize, this.options);
    // Keep the identity case a distinct tensor so callers may dispose input and output independently.
    return out === x ? tf.clone(x) : out;
  }
}
