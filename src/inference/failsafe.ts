/**
 * Label maps on small GPUs, with the results of an unrestricted run (brainchop's lesson: WebGL contexts get lost,
 * textures have a maximum size). {@link predictLabelsFailsafe} plans slabs along the first axis so that the widest
 * tensor of one slab (its planes plus the receptive halo on both sides, times the network's widest channel count)
 * fits the backend's limit ({@link deviceLimits}); each slab's input is uploaded from host memory (the whole volume
 * never lives on the device), its kept planes are read back and reduced to labels on the host (the tie rule of
 * {@link predictVolume}). When a slab fails anyway (out of memory, a buffer or texture too large) the rest is
 * run with half as many planes, down to one; a lost context or a failure at one plane throws a
 * {@link DeviceFailure} for the caller to move to the next backend ({@link withBackendFallback}). Each voxel's value
 * is computed from the same inputs by the same kernel whatever the slab, so the labels equal the unrestricted
 * run's. Host backends (cpu, wasm) stream the network through {@link predictVolume} with per-step progress.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { applyNetwork, type Layer, type VariableStore } from "../dsl/mod.ts";
import { argmaxInto } from "./_pointwise.ts";
import { traceKernels, traceRadius } from "./_trace.ts";
import { asDeviceFailure, DeviceFailure, deviceLimits, guardDevice } from "./device_limits.ts";
import { predictVolume } from "./predict_volume.ts";

/** Options of {@link predictLabelsFailsafe}. */
export interface FailsafeOptions {
  /** Cap on one tensor's bytes below the device's own limit (default 256 MiB; tests force tiny ones). */
  readonly maxTensorBytes?: number;
  /** Called with the fraction of the work done, increasing, after each slab (host: each streamed step). */
  readonly onProgress?: (fraction: number) => void;
  /** One line per thing the user should know (a retry with smaller slabs). */
  readonly onNotice?: (line: string) => void;
  /** Called after each slab with its index, before the next starts (tests simulate failures here). */
  readonly afterSlab?: (slab: number) => void | Promise<void>;
  /**
   * The network as a chain of layers (zoo MeshNets): when one slab of the whole network cannot fit, or fails at one
   * plane, the layers run one at a time, each on slabs with its own halo, activations kept on the host.
   */
  readonly stages?: readonly DeviceStage[];
}

/** The labels of {@link predictLabelsFailsafe} and how they were computed. */
export interface FailsafeResult {
  /** Argmax over the last axis, `[…spatial]` C order. */
  readonly labels: Int32Array;
  readonly backend: string;
  /** Planes per slab at the end (after retries); the volume's length when it ran in one piece. */
  readonly planes: number;
  readonly slabs: number;
  /** Runs with fewer planes after a failure. */
  readonly retries: number;
  /** 1: the whole network per slab; more: layer by layer ({@link FailsafeOptions.stages}). */
  readonly stages: number;
}

/** The default cap on one tensor on a device (a quarter of a small laptop GPU). */
export const DEFAULT_MAX_TENSOR_BYTES = 256 * 2 ** 20;

const HOST_BACKENDS: ReadonlySet<string> = new Set(["cpu", "wasm"]);
const product = (v: readonly number[]) => v.reduce((p, n) => p * n, 1);

/** The most values per input voxel any data tensor of `network` holds (its widest layer's channels). */
export function widestPerVoxel(network: Layer, store: VariableStore, probeShape: readonly number[]): number {
  const probe = tf.zeros([...probeShape]);
  try {
    const voxels = product(probeShape.slice(1, -1));
    const { kernels } = traceKernels(network, store, probe, false);
    let widest = probeShape[probeShape.length - 1];
    for (const k of kernels) {
      if (k.dataInputs.length === 0) continue;
      for (const t of k.outputs) widest = Math.max(widest, Math.ceil(t.size / voxels));
    }
    return widest;
  } finally {
    probe.dispose();
  }
}

/**
 * Planes per slab so that `planes + 2·halo` planes of `planeValues` values (4 bytes each) fit `maxBytes`: the whole
 * `length` when it fits in one piece, else at least 0 (0: not even one plane fits).
 *
 * @example
 * ```ts
 * planSlabPlanes({ length: 200, planeValues: 200 * 160 * 5, halo: 46, maxBytes: 128 * 2 ** 20 }); // 112
 * ```
 */
export function planSlabPlanes(
  { length, planeValues, halo, maxBytes }: { length: number; planeValues: number; halo: number; maxBytes: number },
): number {
  const fit = Math.floor(maxBytes / (planeValues * 4));
  if (fit >= length) return length;
  return Math.max(0, Math.min(length, fit - 2 * halo));
}

/**
 * The label map (argmax of the output channels) of `network` on `volume` (`shape` `[1, …spatial, c]`, C order,
 * host memory) on the active backend, within its memory limits; see the module doc.
 *
 * @example
 * ```ts
 * const { labels, planes, retries } = await predictLabelsFailsafe(net, store, values, [1, 160, 200, 180, 1], {
 *   onProgress: (f) => bar.value = f,
 * });
 * ```
 */
export async function predictLabelsFailsafe(
  network: Layer,
  store: VariableStore,
  volume: Float32Array,
  shape: readonly number[],
  options: FailsafeOptions = {},
): Promise<FailsafeResult> {
  if (shape.length < 4 || shape[0] !== 1 || product(shape) !== volume.length) {
    throw new Error(`predict labels: volume of ${volume.length} values does not have shape [${shape}]`);
  }
  const backend = tf.getBackend();
  const length = shape[1];
  if (HOST_BACKENDS.has(backend)) {
    const input = tf.tensor(volume, [...shape]);
    try {
      const r = predictVolume(network, store, input, { output: "labels", onProgress: options.onProgress });
      return { labels: r.data as Int32Array, backend, planes: r.planes ?? length, slabs: 1, retries: 0, stages: 1 };
    } finally {
      input.dispose();
    }
  }
  const probeShape = [1, ...shape.slice(1, -1).map((n) => Math.min(n, 8)), shape[shape.length - 1]];
  const limits = deviceLimits();
  const maxBytes = Math.min(limits.maxTensorBytes, options.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES);
  const source = maxBytes === limits.maxTensorBytes
    ? limits.source
    : options.maxTensorBytes === undefined
    ? "the default cap"
    : "maxTensorBytes";
  const radius = traceRadius(network, store, probeShape);
  const halo = radius === null ? length : radius[0];
  const spatialPlane = product(shape.slice(2, -1));
  const planeValues = spatialPlane * widestPerVoxel(network, store, probeShape);
  const planes = radius === null ? length : planSlabPlanes({ length, planeValues, halo, maxBytes });
  const tooBig = planes === 0 || (radius === null && planes * planeValues * 4 > maxBytes);
  const why = `one slab of the network needs ${size((1 + 2 * halo) * planeValues * 4)}, more than ` +
    `${size(maxBytes)} (${source})`;
  if (tooBig && !options.stages) throw new DeviceFailure(`${backend}: ${why}`, false);
  const labels = new Int32Array(length * spatialPlane);
  if (!tooBig) {
    try {
      const run = await runSlabs(
        { length, halo, planes, tail: shape.slice(2), spatialPlane },
        {
          input: volume,
          apply: (x) => applyNetwork(network, [x], { store, training: false }) as tf.Tensor,
          labels,
        },
        options,
        { done: 0, total: length },
      );
      return { labels, backend, ...run, stages: 1 };
    } catch (e) {
      const failure = asDeviceFailure(e);
      if (!failure || !failure.retry || !options.stages) throw e; // a lost context is not helped by layers
      options.onNotice?.(`${failure.message}: running layer by layer`);
    }
  } else options.onNotice?.(`${backend}: ${why}: running layer by layer`);
  return await runStages(options.stages!, volume, shape, maxBytes, source, labels, options);
}

/** One layer of a chain for {@link FailsafeOptions.stages}. */
export interface DeviceStage {
  /** The layer on a slab `[1, planes, …, channels]` (inside a tidy). */
  readonly apply: (x: tf.Tensor) => tf.Tensor;
  /** How far (planes, per side) its output depends on its input along the first axis. */
  readonly radius: number;
  /** Its output channels. */
  readonly channels: number;
}

/** The network one stage at a time, each on slabs with its own halo; activations between stages on the host. */
async function runStages(
  stages: readonly DeviceStage[],
  volume: Float32Array,
  shape: readonly number[],
  maxBytes: number,
  source: string,
  labels: Int32Array,
  options: FailsafeOptions,
): Promise<FailsafeResult> {
  const length = shape[1];
  const spatialPlane = product(shape.slice(2, -1));
  const progress = { done: 0, total: length * stages.length };
  let input = volume, channels = shape[shape.length - 1];
  let slabs = 0, retries = 0, planes = length;
  for (const [i, stage] of stages.entries()) {
    const last = i === stages.length - 1;
    const planeValues = spatialPlane * Math.max(channels, stage.channels);
    planes = planSlabPlanes({ length, planeValues, halo: stage.radius, maxBytes });
    if (planes === 0) {
      throw new DeviceFailure(
        `${tf.getBackend()}: layer ${i} needs ${size((1 + 2 * stage.radius) * planeValues * 4)} for one plane, ` +
          `more than ${size(maxBytes)} (${source})`,
        false,
      );
    }
    const output = last ? undefined : new Float32Array(length * spatialPlane * stage.channels);
    const tail = [...shape.slice(2, -1), channels];
    const run = await runSlabs(
      { length, halo: stage.radius, planes, tail, spatialPlane },
      {
        input,
        apply: stage.apply,
        labels: last ? labels : undefined,
        output,
      },
      options,
      progress,
    );
    slabs += run.slabs;
    retries += run.retries;
    planes = run.planes;
    if (output) input = output;
    channels = stage.channels;
  }
  return { labels, backend: tf.getBackend(), planes, slabs, retries, stages: stages.length };
}

/**
 * Runs `apply` on slabs of `planes` planes (and `halo` more on each side, clipped to the volume) of `input`, writing
 * each slab's kept planes to `output` (values) or `labels` (argmax); halves `planes` after a failure it may retry.
 */
async function runSlabs(
  geometry: { length: number; halo: number; planes: number; tail: readonly number[]; spatialPlane: number },
  io: {
    input: Float32Array;
    apply: (x: tf.Tensor) => tf.Tensor;
    labels?: Int32Array;
    output?: Float32Array;
  },
  options: FailsafeOptions,
  progress: { done: number; total: number },
): Promise<{ planes: number; slabs: number; retries: number }> {
  const { length, halo, tail, spatialPlane } = geometry;
  let planes = geometry.planes, retries = 0, slabs = 0;
  const inPlane = product(tail);
  for (let a = 0; a < length;) {
    const b = Math.min(length, a + planes);
    const lo = Math.max(0, a - halo), hi = Math.min(length, b + halo);
    try {
      await guardDevice(async () => {
        const out = tf.tidy(() => {
          const x = tf.tensor(io.input.subarray(lo * inPlane, hi * inPlane), [1, hi - lo, ...tail]);
          const y = io.apply(x);
          return y.slice(y.shape.map((_, i) => (i === 1 ? a - lo : 0)), y.shape.map((n, i) => (i === 1 ? b - a : n)));
        });
        try {
          const values = await out.data() as Float32Array;
          if (io.labels) argmaxInto(values, out.shape[out.rank - 1], io.labels, a * spatialPlane);
          else io.output!.set(values, a * (values.length / (b - a)));
        } finally {
          out.dispose();
        }
      });
    } catch (e) {
      const failure = asDeviceFailure(e);
      if (!failure) throw e;
      if (!failure.retry || planes === 1) throw failure;
      planes = Math.max(1, Math.floor(planes / 2));
      retries++;
      options.onNotice?.(`${failure.message}: retrying with slabs of ${planes} planes`);
      continue;
    }
    slabs++;
    progress.done += b - a;
    a = b;
    options.onProgress?.(progress.done / progress.total);
    await options.afterSlab?.(slabs);
  }
  return { planes, slabs, retries };
}

function size(bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Options of {@link withBackendFallback}. */
export interface FallbackOptions {
  /** Switches tfjs to a backend (throws when it cannot start). */
  readonly use: (backend: string) => Promise<unknown>;
  /** One line per move to the next backend. */
  readonly onNotice?: (line: string) => void;
}

/**
 * Runs `run` on the first of `backends` that starts; when it fails with a {@link DeviceFailure} (lost context, out of
 * memory even at one plane) it runs again on the next, with one line saying why. Other errors (bad input) are
 * thrown at once.
 *
 * @example
 * ```ts
 * const { value, backend } = await withBackendFallback(["webgl", "wasm", "cpu"], () => segment(), {
 *   use: (b) => useBrowserBackend(b as BrowserBackend),
 *   onNotice: (line) => status.textContent = line,
 * });
 * ```
 */
export async function withBackendFallback<T>(
  backends: readonly string[],
  run: (backend: string) => Promise<T>,
  options: FallbackOptions,
): Promise<{ value: T; backend: string; notes: string[] }> {
  const notes: string[] = [];
  const failures: string[] = [];
  let failed: string | undefined; // the device failure that sent the run on
  for (const [i, backend] of backends.entries()) {
    try {
      await options.use(backend);
    } catch (e) {
      failures.push((e as Error).message);
      continue;
    }
    if (failed) {
      const line = `${failed}; running on ${backend} instead`;
      notes.push(line);
      options.onNotice?.(line);
      failed = undefined;
    }
    try {
      return { value: await run(backend), backend, notes };
    } catch (e) {
      const failure = asDeviceFailure(e);
      if (!failure || i === backends.length - 1) throw e;
      failed = failure.message;
      failures.push(failure.message);
    }
  }
  throw new Error(`no backend could run: ${failures.join("; ")}`);
}
