/**
 * The one function that runs a zoo network on a (cropped) volume, exactly and in bounded memory.
 *
 * Label maps of networks whose every stage is spatially local (all MeshNets without instance norm) go through
 * {@link predictVolume}, which streams the whole network plane by plane with fused oneDNN convolutions: no stage's
 * activations ever exist for the whole volume. Networks with a whole-volume normalisation (mindgrab's `_gn`) go
 * through {@link normalizedChainLabels}: each layer's convolution slab by slab into one buffer while its per-channel
 * statistics accumulate, then the normalisation and activation in a second streamed pass (oneDNN, exact erf GELU);
 * two buffers of the hidden width in all. Probability outputs, and any network when oneDNN is not active, run stage
 * by stage instead, each stage on slabs along the first axis:
 *
 * A stage whose output depends on inputs at most `r` voxels away (3³ kernel with dilation r) computes output rows
 * [a, b) from input rows [a − r, b + r) clipped to the volume: inside the volume the clipped rows are the true
 * values, outside they are the zero padding of "same" convolution, so every output row is the whole-volume value.
 * Stages that normalise over the whole volume (instance norm) run in one piece. The classifier's logits never
 * exist for the whole volume: each slab is reduced to its argmax (and softmax when asked) at once.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { applyNetwork, FunctionLayer } from "../src/dsl/mod.ts";
import {
  normalizedChainLabels,
  type NormalizedLayer,
  predictLabelsFailsafe,
  predictVolume,
} from "../src/inference/mod.ts";
import type { EltwiseOp } from "../src/kernels/fast/mod.ts";
import type { ZooModel } from "./model.ts";

/** Options of {@link runNetwork}. */
export interface RunNetworkOptions {
  /** Also return softmax probabilities `[x, y, z, classes]` (C order). */
  readonly probabilities?: boolean;
  /** Bytes of one slab's input + output activations (default 256 MiB); a slab is never thinner than its halo. */
  readonly slabBytes?: number;
  /** Called after each stage with (done, total). */
  readonly onStage?: (done: number, total: number) => void;
  /** `"auto"` (default): streamed when possible (see the module doc); `"stages"`: always stage by stage. */
  readonly method?: "auto" | "stages";
  /** Called with the fraction of the network's work done, increasing (per streamed step, slab or stage). */
  readonly onFraction?: (fraction: number) => void;
  /** Device backends: cap on one tensor's bytes below the device's limit (see `predictLabelsFailsafe`). */
  readonly maxTensorBytes?: number;
  /** Device backends: one line per retry with smaller slabs. */
  readonly onNotice?: (line: string) => void;
}

/** Labels (argmax over classes) and optional probabilities of a volume. */
export interface NetworkOutput {
  /** `[x, y, z]` in C order (z fastest), the class with the highest logit. */
  readonly labels: Uint8Array;
  readonly probabilities?: Float32Array;
}

/**
 * Runs `model`'s network on `volume` (`shape` = [x, y, z], C order, one channel) and returns per-voxel classes.
 * Every tensor it creates is disposed before it returns.
 */
export function runNetwork(
  model: ZooModel,
  volume: Float32Array,
  shape: readonly [number, number, number],
  options: RunNetworkOptions = {},
): NetworkOutput {
  const [nx, ny, nz] = shape;
  const plane = ny * nz;
  if (volume.length !== nx * plane) throw new Error(`runNetwork: volume has ${volume.length} values, shape [${shape}]`);
  const stages = model.network.stages();
  const classes = model.manifest.network.options.numClasses;
  if (classes > 255) throw new Error(`runNetwork: ${classes} classes do not fit a uint8 label map`);
  if ((options.method ?? "auto") === "auto" && !options.probabilities) {
    if (stages.every((stage) => stage.local)) {
      return { labels: streamedLabels(model, volume, shape, stages.length, options) };
    }
    const streamed = normalizedChainLabels(meshNetLayers(model), volume, shape, {
      onLayer: (done, total) => {
        options.onStage?.(done, total);
        options.onFraction?.(done / total);
      },
    });
    if (streamed) return { labels: Uint8Array.from(streamed.labels) };
  }
  const budget = options.slabBytes ?? 256 * 2 ** 20;
  const scopeName = model.network.name;
  let act = volume;
  let channels = 1;
  const labels = new Uint8Array(nx * plane);
  const probabilities = options.probabilities ? new Float32Array(nx * plane * classes) : undefined;
  stages.forEach((stage, s) => {
    const last = s === stages.length - 1;
    const outChannels = last ? classes : model.manifest.network.options.channels;
    const perRow = plane * (channels + outChannels) * 4;
    // At least 2r rows per slab (the halo then at most doubles the work), and at least one.
    const rows = stage.local ? Math.max(1, 2 * stage.radius, Math.floor(budget / perRow) - 2 * stage.radius) : nx;
    const next = last ? undefined : new Float32Array(nx * plane * outChannels);
    const wrapper = new FunctionLayer(scopeName, (scope, x: tf.Tensor) => stage.layer.apply(scope, x));
    for (let a = 0; a < nx; a += rows) {
      const b = Math.min(nx, a + rows);
      const lo = stage.local ? Math.max(0, a - stage.radius) : 0;
      const hi = stage.local ? Math.min(nx, b + stage.radius) : nx;
      tf.tidy(() => {
        const x = tf.tensor5d(act.subarray(lo * plane * channels, hi * plane * channels), [
          1,
          hi - lo,
          ny,
          nz,
          channels,
        ]);
        const full = applyNetwork(wrapper, [x], { store: model.store });
        const y = lo === a && hi === b ? full : tf.slice(full, [0, a - lo, 0, 0, 0], [1, b - a, ny, nz, outChannels]);
        if (!last) {
          next!.set(y.dataSync() as Float32Array, a * plane * outChannels);
          return;
        }
        const arg = tf.argMax(y, -1).dataSync();
        labels.set(arg, a * plane);
        if (probabilities) probabilities.set(tf.softmax(y, -1).dataSync() as Float32Array, a * plane * classes);
      });
    }
    if (next) {
      act = next;
      channels = outChannels;
    }
    options.onStage?.(s + 1, stages.length);
    options.onFraction?.((s + 1) / stages.length);
  });
  return { labels, probabilities };
}

/** MeshNet's instance-norm ε (ConvolutionalLayer's, brainchop's `_gn`). */
const INSTANCE_NORM_EPSILON = 1e-5;

const ACTIVATIONS: Readonly<Record<string, EltwiseOp>> = {
  relu: { alg: "relu" },
  elu: { alg: "elu", alpha: 1 },
  gelu: { alg: "geluErf" },
};

/** The entry's MeshNet as {@link NormalizedLayer}s, read from its variables (`MeshNet/conv_<i>_…/conv_/w`). */
export function meshNetLayers(model: ZooModel): NormalizedLayer[] {
  const o = model.manifest.network.options;
  const scope = model.network.name;
  const records = model.store.records();
  const find = (pattern: RegExp) => {
    const found = records.find((r) => pattern.test(r.path));
    return found && { values: found.variable.dataSync() as Float32Array, shape: found.shape };
  };
  const layer = (block: string, dilation: number, hidden: boolean): NormalizedLayer => {
    const w = find(new RegExp(`^${scope}/${block}/conv_/w$`));
    if (!w || w.shape.length !== 5) throw new Error(`zoo entry "${model.manifest.id}": no 3D filter for ${block}`);
    const b = find(new RegExp(`^${scope}/${block}/conv_/b$`));
    return {
      w: w.values,
      wShape: w.shape as unknown as NormalizedLayer["wShape"],
      bias: b?.values,
      dilation,
      instanceNorm: hidden && o.normalization === "instance" ? { epsilon: INSTANCE_NORM_EPSILON } : undefined,
      activation: hidden ? ACTIVATIONS[o.actiFunc] : undefined,
    };
  };
  return [
    ...o.dilations.map((d, i) => layer(`conv_${i}_[a-z_]+`, d, true)),
    layer("conv_output", 1, false),
  ];
}

/** Labels of the whole network streamed by {@link predictVolume} (exact; the input tensor is the only full one). */
function streamedLabels(
  model: ZooModel,
  volume: Float32Array,
  shape: readonly [number, number, number],
  stageCount: number,
  options: RunNetworkOptions,
): Uint8Array {
  const input = tf.tensor5d(volume, [1, ...shape, 1]);
  try {
    const { data } = predictVolume(model.network, model.store, input, {
      output: "labels",
      onProgress: options.onFraction,
    });
    options.onStage?.(stageCount, stageCount);
    return Uint8Array.from(data);
  } finally {
    input.dispose();
  }
}

/**
 * {@link runNetwork} on every backend: cpu and wasm run it as is; device backends (webgl and webgpu in browsers,
 * webgpu under Deno), whose tensors are read asynchronously, run the whole network through
 * {@link predictLabelsFailsafe} (slabs with their halo on the device, sized to the device's limits and made smaller
 * when one fails: the same labels). Probabilities are not offered there.
 */
export async function runNetworkAsync(
  model: ZooModel,
  volume: Float32Array,
  shape: readonly [number, number, number],
  options: RunNetworkOptions = {},
): Promise<NetworkOutput> {
  if (["cpu", "wasm"].includes(tf.getBackend())) return runNetwork(model, volume, shape, options);
  if (options.probabilities) {
    throw new Error(`runNetwork: probabilities are not available on backend "${tf.getBackend()}": use cpu or wasm`);
  }
  const stages = model.network.stages();
  const classes = model.manifest.network.options.numClasses;
  const hidden = model.manifest.network.options.channels;
  const { labels } = await predictLabelsFailsafe(model.network, model.store, volume, [1, ...shape, 1], {
    maxTensorBytes: options.maxTensorBytes,
    onProgress: options.onFraction,
    onNotice: options.onNotice,
    // too big for one slab of the whole network: layer by layer (not for whole-volume normalisation)
    stages: stages.every((s) => s.local)
      ? stages.map((stage, i) => {
        const wrapper = new FunctionLayer(model.network.name, (scope, x: tf.Tensor) => stage.layer.apply(scope, x));
        return {
          apply: (x: tf.Tensor) => applyNetwork(wrapper, [x], { store: model.store }) as tf.Tensor,
          radius: stage.radius,
          channels: i === stages.length - 1 ? classes : hidden,
        };
      })
      : undefined,
  });
  options.onStage?.(stages.length, stages.length);
  return { labels: Uint8Array.from(labels) };
}
