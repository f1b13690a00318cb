/**
 * Whole-volume inference of a fully convolutional network in bounded memory, with exact results.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { applyNetwork, type Layer, type VariableStore } from "../dsl/mod.ts";
import { argmaxInto } from "./_pointwise.ts";
import { compileInference, type InferenceProgram } from "./compile.ts";
import { onednnRunner, type StageRunner, tfjsRunner } from "./_runners.ts";
import { streamChain } from "./_stream.ts";
import { traceChain, traceRadius } from "./_trace.ts";

type SlabPiece = { values: Float32Array | Int32Array; shape: number[] };

/** Slabs cut along the first spatial axis, in order, joined back into one volume `length` planes long. */
function joinSlabs(
  pieces: SlabPiece[],
  length: number,
  labels: boolean,
): { shape: number[]; data: Float32Array | Int32Array } {
  const total = pieces.reduce((n, p) => n + p.values.length, 0);
  const data = labels ? new Int32Array(total) : new Float32Array(total);
  let offset = 0;
  for (const p of pieces) {
    data.set(p.values, offset);
    offset += p.values.length;
  }
  const shape = [...pieces[0].shape];
  shape[1] = length;
  return { shape, data };
}

/** How {@link predictVolume} ran the network. */
export type PredictMethod = "stream" | "slabs" | "whole";

/** Options of {@link predictVolume}. */
export interface PredictVolumeOptions {
  /** `"logits"` (default): the network's output; `"labels"`: the index of the largest channel per voxel. */
  readonly output?: "logits" | "labels";
  /**
   * `"auto"` (default): `"stream"` when the network is a chain of stride-1 convolutions with per-channel affine
   * maps and activations (MeshNet, any conv/bn/activation stack), else `"slabs"` when every kernel is spatially
   * local, else `"whole"`. `"stream"`: layer by layer, plane by plane, each plane computed once. `"slabs"`:
   * overlapping slabs along the first axis with a halo of the receptive radius. `"whole"`: one application.
   */
  readonly method?: "auto" | PredictMethod;
  /** Convolutions of `"stream"`: `"auto"` (oneDNN with fused bias and activation when available), or force one. */
  readonly kernels?: "auto" | "onednn" | "tfjs";
  /** Planes along the first axis computed per step (`"stream"`) or per slab (`"slabs"`, default 32). */
  readonly planes?: number;
  /** Memory the streamed layer buffers may take, in MiB (default 768); sets `planes` when that is not given. */
  readonly memoryMiB?: number;
  /** Called with the fraction of the work done, increasing: after each streamed step or each slab. */
  readonly onProgress?: (fraction: number) => void;
}

/** The result of {@link predictVolume}. */
export interface VolumePrediction {
  /** `[1, …spatial, channels]` for logits, `[1, …spatial]` for labels. */
  readonly shape: readonly number[];
  /** Logits (float32) or labels (int32), channels-last. */
  readonly data: Float32Array | Int32Array;
  readonly method: PredictMethod;
  /** Which convolutions ran (`"tfjs"`: the active backend's kernels). */
  readonly kernels: "onednn" | "tfjs";
  /** Why a faster method was not taken. */
  readonly note?: string;
  /** Planes per step or per slab. */
  readonly planes?: number;
}

function checkVolume(volume: tf.Tensor): void {
  if ((volume.rank !== 4 && volume.rank !== 5) || volume.shape[0] !== 1) {
    throw new Error(
      `predict volume: expected one volume [1, …spatial, channels] of rank 4 or 5, got [${volume.shape}]`,
    );
  }
  if (volume.dtype !== "float32") throw new Error(`predict volume: expected float32 values, got ${volume.dtype}`);
}

/** Backends whose tensors can be read synchronously (the streamed path works on host memory). */
const HOST_BACKENDS: ReadonlySet<string> = new Set(["cpu", "wasm"]);

function pickRunner(kernels: PredictVolumeOptions["kernels"]): StageRunner {
  if (kernels === "tfjs") return tfjsRunner();
  const fast = onednnRunner();
  if (fast) return fast;
  if (kernels === "onednn") throw new Error("predict volume: oneDNN kernels requested but not active (libdnnl.so.2)");
  return tfjsRunner();
}

/**
 * Runs the network on `input` (inside a tidy; through the compiled `program` when there is one): its logits or
 * labels, planes `keep` of the first axis only.
 */
function applyInto(
  network: Layer,
  store: VariableStore,
  input: tf.Tensor,
  keep: { from: number; count: number } | null,
  labels: boolean,
  program: InferenceProgram | null = null,
): { values: Float32Array | Int32Array; shape: number[] } {
  return tf.tidy(() => {
    const y = program === null
      ? applyNetwork(network, [input], { store, training: false })
      : (({ data, shape }) => tf.tensor(data, shape))(program.run(input.dataSync() as Float32Array, input.shape));
    const rank = y.rank;
    const core = keep === null
      ? y
      : y.slice(y.shape.map((_, i) => (i === 1 ? keep.from : 0)), y.shape.map((n, i) => (i === 1 ? keep.count : n)));
    const shape = [...core.shape];
    const values = core.dataSync() as Float32Array;
    if (!labels) return { values: Float32Array.from(values), shape };
    const channels = shape[rank - 1];
    const out = new Int32Array(values.length / channels);
    argmaxInto(values, channels, out, 0);
    return { values: out, shape: shape.slice(0, -1) };
  });
}

/**
 * Applies `network` (variables in `store`; inference mode, no gradient bookkeeping) to one whole `volume`
 * (`[1, x, y, z, c]` or `[1, x, y, c]`, float32) and returns its output for every voxel, exactly as one application
 * to the whole volume would, in bounded memory.
 *
 * The network is traced once on a small probe. A chain of stride-1 convolutions with per-channel affine maps
 * (bias, batch norm in inference mode: folded into the filters) and activations is streamed plane by plane along
 * the first spatial axis, each convolution with its bias and activation fused in one oneDNN kernel where
 * available (`method: "stream"`): memory is a few dozen planes per layer, work is that of the whole volume. Other
 * networks whose kernels are all spatially local run on overlapping slabs with a halo of their receptive radius
 * (`"slabs"`), anything else in one application (`"whole"`). With `output: "labels"` only the argmax is kept.
 * Backends whose tensors can be read synchronously only (cpu, wasm); elsewhere it says to use
 * {@link predictVolumeAsync}.
 *
 * @example
 * ```ts
 * const net = new MeshNet({ numClasses: 3, channels: 5 });
 * const { data, shape } = predictVolume(net, store, t1, { output: "labels" }); // Int32Array, [1, 256, 256, 256]
 * ```
 */
export function predictVolume(
  network: Layer,
  store: VariableStore,
  volume: tf.Tensor,
  options: PredictVolumeOptions = {},
): VolumePrediction {
  checkVolume(volume);
  if (!HOST_BACKENDS.has(tf.getBackend())) {
    throw new Error(
      `predict volume: backend "${tf.getBackend()}" cannot read tensors synchronously: use predictVolumeAsync`,
    );
  }
  const method = options.method ?? "auto";
  const labels = options.output === "labels";
  const spatial = volume.shape.slice(1, -1);
  const probeShape = [1, ...spatial.map((n) => Math.min(n, 8)), volume.shape[volume.rank - 1]];
  const traced = method === "whole" ? null : traceChain(network, store, probeShape);
  const note = traced?.kind === "other" ? traced.reason : undefined;

  if (traced?.kind === "chain" && (method === "auto" || method === "stream")) {
    const runner = pickRunner(options.kernels);
    try {
      const values = volume.dataSync() as Float32Array;
      const result = streamChain(traced, values, volume.shape, runner, {
        output: labels ? "labels" : "logits",
        planes: options.planes,
        memoryBytes: options.memoryMiB === undefined ? undefined : options.memoryMiB * 2 ** 20,
        onProgress: options.onProgress,
      });
      return { ...result, method: "stream", kernels: runner.kind };
    } finally {
      runner.dispose();
    }
  }
  if (method === "stream") throw new Error(`predict volume: the network cannot be streamed (${note})`);

  const radius = traced ? traced.radius : null;
  const slabs = (method === "auto" || method === "slabs") && radius !== null;
  if (method === "slabs" && !slabs) throw new Error(`predict volume: the network is not spatially local (${note})`);
  // oneDNN with batch norm folded and bias, residual and activation fused, where the network compiles
  const compiled = options.kernels === "tfjs" ? null : compileInference(network, store, probeShape);
  const program = compiled !== null && "run" in compiled ? compiled : null;
  if (options.kernels === "onednn" && program === null) {
    const why = compiled !== null && "reason" in compiled ? compiled.reason : "";
    throw new Error(`predict volume: oneDNN kernels requested but the network does not compile (${why})`);
  }
  const kernels = program ? "onednn" : "tfjs";
  try {
    if (!slabs) {
      const whole = applyInto(network, store, volume, null, labels, program);
      return { shape: whole.shape, data: whole.values, method: "whole", kernels, note };
    }
    const length = spatial[0], halo = radius![0];
    const planes = Math.max(1, options.planes ?? 32);
    const pieces: SlabPiece[] = [];
    for (let a = 0; a < length; a += planes) {
      const b = Math.min(length, a + planes);
      const lo = Math.max(0, a - halo), hi = Math.min(length, b + halo);
      const slab = tf.tidy(() =>
        volume.slice(
          volume.shape.map((_, i) => (i === 1 ? lo : 0)),
          volume.shape.map((n, i) => (i === 1 ? hi - lo : n)),
        )
      );
      try {
        pieces.push(applyInto(network, store, slab, { from: a - lo, count: b - a }, labels, program));
      } finally {
        slab.dispose();
      }
      options.onProgress?.(b / length);
    }
    return { ...joinSlabs(pieces, length, labels), method: "slabs", kernels, note, planes };
  } finally {
    program?.dispose();
  }
}

/** The network's output on `input` (kept, inside a tidy), planes `keep` of the first axis only. */
function applyKept(
  network: Layer,
  store: VariableStore,
  input: tf.Tensor,
  keep: { from: number; count: number } | null,
) {
  return tf.tidy(() => {
    const y = applyNetwork(network, [input], { store, training: false });
    return keep === null
      ? y
      : y.slice(y.shape.map((_, i) => (i === 1 ? keep.from : 0)), y.shape.map((n, i) => (i === 1 ? keep.count : n)));
  });
}

/** Reads `t` (and disposes it): logits, or labels by the host argmax (the same tie rule as {@link predictVolume}). */
async function readOut(t: tf.Tensor, labels: boolean): Promise<{ values: Float32Array | Int32Array; shape: number[] }> {
  const shape = [...t.shape];
  try {
    const values = await t.data() as Float32Array;
    if (!labels) return { values: Float32Array.from(values), shape };
    const channels = shape[shape.length - 1];
    const out = new Int32Array(values.length / channels);
    argmaxInto(values, channels, out, 0);
    return { values: out, shape: shape.slice(0, -1) };
  } finally {
    t.dispose();
  }
}

/**
 * {@link predictVolume} for every backend: on cpu and wasm it is `predictVolume` itself; on device backends
 * (webgpu under Deno, webgl/webgpu in browsers), whose tensors cannot be read synchronously, the network runs on the
 * device on overlapping slabs along the first axis (halo = the receptive radius, traced without reading any value)
 * when every kernel is spatially local, else in one application, and each slab is read with `await data()`. The
 * results are those of one application to the whole volume (logits within float rounding of the cpu backend's,
 * labels by the same argmax). `method: "stream"` and `kernels: "onednn"` (host-only) are refused there.
 *
 * @example
 * ```ts
 * await useBackend("webgpu");
 * const { data } = await predictVolumeAsync(net, store, t1, { output: "labels", planes: 16 });
 * ```
 */
export async function predictVolumeAsync(
  network: Layer,
  store: VariableStore,
  volume: tf.Tensor,
  options: PredictVolumeOptions = {},
): Promise<VolumePrediction> {
  checkVolume(volume);
  const backend = tf.getBackend();
  if (HOST_BACKENDS.has(backend)) return predictVolume(network, store, volume, options);
  const method = options.method ?? "auto";
  if (method === "stream" || options.kernels === "onednn") {
    throw new Error(
      `predict volume: ${method === "stream" ? 'method "stream"' : 'kernels "onednn"'} runs on the host, not on ` +
        `backend "${backend}": use method "auto", "slabs" or "whole"`,
    );
  }
  const labels = options.output === "labels";
  const spatial = volume.shape.slice(1, -1);
  const probeShape = [1, ...spatial.map((n) => Math.min(n, 8)), volume.shape[volume.rank - 1]];
  const radius = method === "whole" ? null : traceRadius(network, store, probeShape);
  if (method === "slabs" && radius === null) throw new Error("predict volume: the network is not spatially local");
  if (radius === null) {
    const whole = await readOut(applyKept(network, store, volume, null), labels);
    return { shape: whole.shape, data: whole.values, method: "whole", kernels: "tfjs" };
  }
  const length = spatial[0], halo = radius[0];
  const planes = Math.max(1, options.planes ?? 32);
  const pieces: SlabPiece[] = [];
  for (let a = 0; a < length; a += planes) {
    const b = Math.min(length, a + planes);
    const lo = Math.max(0, a - halo), hi = Math.min(length, b + halo);
    const out = tf.tidy(() => {
      const slab = volume.slice(
        volume.shape.map((_, i) => (i === 1 ? lo : 0)),
        volume.shape.map((n, i) => (i === 1 ? hi - lo : n)),
      );
      return applyKept(network, store, slab, { from: a - lo, count: b - a });
    });
    pieces.push(await readOut(out, labels));
    options.onProgress?.(b / length);
  }
  return { ...joinSlabs(pieces, length, labels), method: "slabs", kernels: "tfjs", planes };
}
