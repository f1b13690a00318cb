/**
 * Fine-tuning on a few labelled voxels, portable (Deno and the web app's worker): each iteration cuts a window
 * around a labelled voxel (picked at random), and takes one {@link trainStep} with a NiftyTS optimiser on the
 * NiftyNet `CrossEntropy` loss weighted by a 0/1 map of the labelled voxels, so unlabelled voxels contribute
 * nothing (the loss is the mean cross-entropy over the labelled voxels of the window). Frozen variables
 * (`VariableStore.freeze`, `vars_to_freeze`) are left as they are.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { type Layer, RandomStream, type VariableStore } from "../dsl/mod.ts";
import { SEGMENTATION_LOSSES, segmentationLoss } from "../losses/segmentation.ts";
import type { LabelledVolume } from "../../zoo/finetune_data.ts";
import type { OptimiserName } from "./config/keys.ts";
import { createOptimizer } from "./optimizers.ts";
import { trainStep } from "./train_step.ts";

/** Options of {@link fineTune}. */
export interface FineTuneOptions {
  /** Number of optimisation steps (one window each). */
  readonly iterations: number;
  readonly learningRate: number;
  /** Edge of the cubic training window in voxels (clipped to the volume). */
  readonly windowSize: number;
  /** Classes of the network's output (its last axis). */
  readonly nClasses: number;
  /** Default `adam`. */
  readonly optimizer?: OptimiserName;
  /** Seeds the choice of windows (default 0). */
  readonly seed?: number;
  /** Called after each step with its (1-based) iteration and loss. */
  readonly onIteration?: (iteration: number, loss: number) => void | Promise<void>;
}

/** A window of `data` around a labelled voxel: the input `[1, w, w, w, 1]`, class and weight maps `[1, w, w, w, 1]`. */
export function labelledWindow(
  data: LabelledVolume,
  centre: number,
  size: number,
): { input: Float32Array; classes: Float32Array; weights: Float32Array; shape: [number, number, number] } {
  const [nx, ny, nz] = data.shape;
  const edge = [Math.min(size, nx), Math.min(size, ny), Math.min(size, nz)] as [number, number, number];
  const c = [Math.floor(centre / (ny * nz)), Math.floor(centre / nz) % ny, centre % nz];
  const start = c.map((v, k) => Math.max(0, Math.min(v - (edge[k] >> 1), data.shape[k] - edge[k])));
  const [wx, wy, wz] = edge;
  const input = new Float32Array(wx * wy * wz);
  for (let x = 0; x < wx; x++) {
    for (let y = 0; y < wy; y++) {
      const from = ((start[0] + x) * ny + start[1] + y) * nz + start[2];
      input.set(data.volume.subarray(from, from + wz), (x * wy + y) * wz);
    }
  }
  const classes = new Float32Array(input.length), weights = new Float32Array(input.length);
  for (let i = 0; i < data.voxels.length; i++) {
    const v = data.voxels[i];
    const x = Math.floor(v / (ny * nz)) - start[0], y = Math.floor(v / nz) % ny - start[1], z = v % nz - start[2];
    if (x < 0 || y < 0 || z < 0 || x >= wx || y >= wy || z >= wz) continue;
    const j = (x * wy + y) * wz + z;
    classes[j] = data.classes[i];
    weights[j] = 1;
  }
  return { input, classes, weights, shape: edge };
}

/**
 * Trains `network`'s variables in `store` (already built, e.g. restored from a zoo entry) for `iterations` steps
 * on windows around the labelled voxels of `data`; returns the loss of each step.
 *
 * @example
 * ```ts
 * import { fineTune } from "./finetune.ts";
 * const losses = await fineTune(model.network, model.store, data, {
 *   iterations: 3, learningRate: 1e-3, windowSize: 32, nClasses: 3,
 * });
 * ```
 */
export async function fineTune(
  network: Layer<[tf.Tensor], tf.Tensor>,
  store: VariableStore,
  data: LabelledVolume,
  options: FineTuneOptions,
): Promise<number[]> {
  const { iterations, learningRate, windowSize, nClasses } = options;
  if (!(Number.isInteger(iterations) && iterations >= 1)) {
    throw new Error(`fine-tune iterations must be a positive integer, got ${iterations}`);
  }
  if (!(Number.isInteger(windowSize) && windowSize >= 1)) {
    throw new Error(`fine-tune window size must be a positive integer, got ${windowSize}`);
  }
  if (data.voxels.length === 0) throw new Error("fine-tune: no labelled voxel to learn from");
  const spec = SEGMENTATION_LOSSES.find((s) => s.name === "CrossEntropy")!;
  const dataLoss = segmentationLoss(spec, { nClasses });
  const optimizer = createOptimizer(options.optimizer ?? "adam", learningRate);
  const random = new RandomStream(options.seed ?? 0);
  const losses: number[] = [];
  try {
    for (let it = 1; it <= iterations; it++) {
      const centre = data.voxels[Math.floor(random.uniform() * data.voxels.length)];
      const w = labelledWindow(data, centre, windowSize);
      const dims = [1, ...w.shape, 1] as [number, number, number, number, number];
      const input = tf.tensor5d(w.input, dims);
      const classes = tf.tensor5d(w.classes, dims);
      const weights = tf.tensor5d(w.weights, dims);
      try {
        const loss = await trainStep(network, input, {
          store,
          optimizer,
          loss: (prediction) => dataLoss(prediction, classes, weights),
        });
        if (!Number.isFinite(loss)) throw new Error(`fine-tune: the loss became ${loss} at iteration ${it}`);
        losses.push(loss);
      } finally {
        tf.dispose([input, classes, weights]);
      }
      await options.onIteration?.(it, losses[it - 1]);
    }
  } finally {
    optimizer.dispose();
  }
  return losses;
}
