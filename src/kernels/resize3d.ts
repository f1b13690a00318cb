/**
 * 3D resizing (trilinear / nearest) with gradients: two tfjs 2D resizes, whose gradient kernels `resize.ts`
 * corrects.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { registerKernelFixes } from "./register.ts";

/** Interpolation of {@link resize3d}. */
export type Resize3dMethod = "trilinear" | "nearest";

/** Options of {@link resize3d}. */
export interface Resize3dOptions {
  /** `"trilinear"` (default) or `"nearest"`. */
  method?: Resize3dMethod;
  /** Map the corner voxel centres of input and output onto each other (default false). */
  alignCorners?: boolean;
  /** Sample at voxel centres, src = (i + ½)·in/out − ½ (default false; exclusive with alignCorners). */
  halfPixelCenters?: boolean;
}

/**
 * Resizes the three spatial axes of an NDHWC tensor to `size` = [depth, height, width], differentiably.
 *
 * Per axis (in → out voxels), output index i samples source coordinate src:
 * - `alignCorners`: src = i·(in − 1)/(out − 1) (0 when out = 1) — PyTorch `align_corners=True`;
 * - `halfPixelCenters`: src = (i + ½)·in/out − ½ — PyTorch `align_corners=False` (trilinear) and
 *   `mode="nearest-exact"` (nearest);
 * - neither (TensorFlow 1 legacy): src = i·in/out — PyTorch `mode="nearest"` for nearest.
 *
 * Trilinear blends the two neighbours ⌊src⌋, ⌈src⌉ clamped to [0, in − 1] with weight src − ⌊src⌋; nearest takes
 * ⌊src⌋ (round(src) with alignCorners), clamped. The resize is separable: one tfjs 2D resize over (height, width),
 * then one over depth (calls `registerKernelFixes`). Gradients flow through tfjs's `ResizeBilinearGrad`/`ResizeNearestNeighborGrad`, which are
 * only correct on the backends fixed by `registerKernelFixes` (cpu, wasm; not webgl/webgpu).
 *
 * @example
 * ```ts
 * const y = resize3d(tf.ones([1, 4, 5, 6, 2]), [8, 10, 3], { halfPixelCenters: true }); // [1, 8, 10, 3, 2]
 * ```
 */
export function resize3d(
  x: tf.Tensor5D,
  size: readonly [number, number, number],
  options: Resize3dOptions = {},
): tf.Tensor5D {
  registerKernelFixes();
  const { method = "trilinear", alignCorners = false, halfPixelCenters = false } = options;
  if (x.rank !== 5) throw new Error(`resize3d: input must be rank 5 (NDHWC), got shape [${x.shape}]`);
  if (size.length !== 3 || size.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new Error(`resize3d: size must be 3 positive integers [depth, height, width], got [${size}]`);
  }
  if (method !== "trilinear" && method !== "nearest") {
    throw new Error(`resize3d: method must be "trilinear" or "nearest", got ${JSON.stringify(method)}`);
  }
  if (alignCorners && halfPixelCenters) {
    throw new Error("resize3d: alignCorners and halfPixelCenters cannot both be true");
  }
  const [n, d, h, w, c] = x.shape;
  const [od, oh, ow] = size;
  const resize2d = (t: tf.Tensor4D, to: [number, number]) =>
    method === "trilinear"
      ? tf.image.resizeBilinear(t, to, alignCorners, halfPixelCenters)
      : tf.image.resizeNearestNeighbor(t, to, alignCorners, halfPixelCenters);
  return tf.tidy(() => {
    let t: tf.Tensor = x;
    if (oh !== h || ow !== w) t = resize2d(tf.reshape(t, [n * d, h, w, c]), [oh, ow]);
    if (od !== d) {
      // A same-size axis is reproduced exactly under every sampling rule, so (depth, height·width) works.
      t = resize2d(tf.reshape(t, [n, d, oh * ow, c]), [od, oh * ow]);
    }
    return tf.reshape(t, [n, od, oh, ow, c]);
  });
}
