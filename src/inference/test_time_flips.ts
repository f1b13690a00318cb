/**
 * Test-time flip augmentation (nnU-Net's mirroring, MONAI's flip TTA): the network runs on a batch and on every
 * combination of flips over the chosen spatial axes (2^k passes for k axes), each output is flipped back, and the
 * passes are combined. Optionally two voxel-wise uncertainty maps over the passes:
 *
 * - `variance`: the population variance (÷ K passes) of each channel across passes, averaged over channels — of the
 *   class probabilities (softmax per pass) when `probabilities`, else of the raw outputs.
 * - `entropy`: the entropy in nats of the mean class probability, −Σ_c p̄_c ln p̄_c (0 · ln 0 = 0); needs
 *   `probabilities`.
 *
 * With `probabilities` the combined output is ln p̄ (the log of the mean probability, floored at 1e-30), a logit whose
 * softmax is p̄ and whose argmax is p̄'s; otherwise it is the mean output.
 *
 * @module
 */
import { tf } from "../deps.ts";

/** Uncertainty maps {@link predictWithFlips} can return. */
export type UncertaintyMap = "variance" | "entropy";

/** Options of {@link predictWithFlips}. */
export interface FlipOptions {
  /** Spatial axes to flip, 0-based over the spatial dimensions of the channels-last batch (0 = x, 1 = y, 2 = z). */
  readonly axes: readonly number[];
  /** Combine class probabilities (softmax over the last axis per pass) rather than raw outputs. */
  readonly probabilities: boolean;
  /** Uncertainty maps to return (each `[batch, …spatial, 1]`). */
  readonly uncertainty?: readonly UncertaintyMap[];
}

/** Every subset of `axes` (the empty one first), in a fixed order: 2^k flip combinations. */
export function flipCombinations(axes: readonly number[]): number[][] {
  const unique = [...new Set(axes)].sort((a, b) => a - b);
  const out: number[][] = [];
  for (let m = 0; m < 1 << unique.length; m++) out.push(unique.filter((_, i) => (m >> i) & 1));
  return out;
}

/**
 * Runs `predict` on `input` (`[batch, …spatial, channels]`) and on its flips, returns the combined `output` and the
 * requested uncertainty maps. Call inside `tf.tidy`. Axes beyond the batch's spatial rank are ignored (a 2D batch
 * has no z).
 *
 * @example
 * ```ts
 * const { output, entropy } = tf.tidy(() =>
 *   predictWithFlips(batch, (x) => net(x), { axes: [0, 1, 2], probabilities: true, uncertainty: ["entropy"] })
 * );
 * ```
 */
export function predictWithFlips(
  input: tf.Tensor,
  predict: (x: tf.Tensor) => tf.Tensor,
  options: FlipOptions,
): { output: tf.Tensor; variance?: tf.Tensor; entropy?: tf.Tensor } {
  const spatialRank = input.rank - 2;
  const wanted = new Set(options.uncertainty ?? []);
  if (wanted.has("entropy") && !options.probabilities) {
    throw new Error("uncertainty map entropy needs class probabilities (segmentation outputs)");
  }
  const axes = options.axes.filter((a) => a < spatialRank);
  const passes = flipCombinations(axes).map((combo) => {
    const dims = combo.map((a) => a + 1);
    const flipped = dims.length ? tf.reverse(input, dims) : input;
    const raw = predict(flipped);
    const back = dims.length ? tf.reverse(raw, dims) : raw;
    return options.probabilities ? tf.softmax(back, -1) : back;
  });
  const stack = tf.stack(passes);
  const mean = tf.mean(stack, 0);
  const result: { output: tf.Tensor; variance?: tf.Tensor; entropy?: tf.Tensor } = {
    output: options.probabilities ? tf.log(tf.maximum(mean, 1e-30)) : mean,
  };
  if (wanted.has("variance")) {
    const variance = tf.mean(tf.square(tf.sub(stack, mean)), 0);
    result.variance = tf.mean(variance, -1, true);
  }
  if (wanted.has("entropy")) {
    const terms = tf.where(tf.greater(mean, 0), tf.mul(mean, tf.log(tf.maximum(mean, 1e-30))), tf.zerosLike(mean));
    result.entropy = tf.neg(tf.sum(terms, -1, true));
  }
  return result;
}
