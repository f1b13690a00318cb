/**
 * The NiftyTS side of the benchmark: runs one {@link BenchCase} on the current tfjs backend and returns its median
 * time, plus a per-kernel profile of a training-step case.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { applyNetwork, type Layer, VariableStore } from "../src/dsl/mod.ts";
import { HighRes3DNet } from "../networks/highres3dnet.ts";
import { MeshNet } from "../networks/meshnet.ts";
import { ToyNet } from "../networks/toynet.ts";
import { compileInference, type InferenceProgram, predictVolumeAsync } from "../src/inference/mod.ts";
import { trainStepLoss } from "../src/engine/train_step.ts";
import { createOptimizer } from "../src/engine/optimizers.ts";
import { getLoss } from "../src/losses/mod.ts";
import { conv, registerKernelFixes } from "../src/kernels/mod.ts";
import type { BenchCase } from "./cases.ts";
import { BenchUNet3D } from "./unet3d.ts";
import { runZooCase } from "./zoo_cases.ts";

/**
 * Waits until the device has finished the work queued so far: on webgpu, tfjs only encodes kernels when they are
 * called, so a time taken without this measures the encoding. A one-element kernel is queued after that work and read
 * back: the GPU runs a queue in order, so the read completes only after everything before it (Deno's
 * `queue.onSubmittedWorkDone()` resolves early: measured 17 ms for a 1.2 s convolution). cpu and wasm compute
 * synchronously (no-op).
 */
export async function settle(): Promise<void> {
  if (tf.getBackend() !== "webgpu" && tf.getBackend() !== "webgl") return;
  // relu has no cpu hand-off in tfjs-webgpu, so it runs on the device even on a host-side input
  const marker = tf.tidy(() => tf.relu(tf.zeros([1])));
  await marker.data();
  marker.dispose();
}

/** Median of `repeats` timed calls of `fn` after `warmup` untimed ones, in ms, each until the device is idle. */
export async function medianMs(
  fn: () => void | Promise<void>,
  { repeats, warmup = 1 }: { repeats: number; warmup?: number },
): Promise<number> {
  for (let i = 0; i < warmup; i++) {
    await fn();
    await settle();
  }
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    await settle();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  return times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
}

function randn(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.randomNormal(shape, 0, scale, "float32", seed);
}

function cube(size: number, channels: number): number[] {
  return [1, size, size, size, channels];
}

async function timeConv(c: BenchCase): Promise<number> {
  const k = c.kernel;
  const x = randn(cube(c.size, c.cin), 1);
  const w = randn([k, k, k, c.cin, c.cout], 2, Math.sqrt(2 / (k ** 3 * c.cin)));
  const options = { strides: c.stride, dilations: c.dilation, padding: "same" as const };
  const f = (a: tf.Tensor, b: tf.Tensor) => conv(a as tf.Tensor5D, b, options);
  const outSize = Math.ceil(c.size / c.stride);
  const dy = randn(cube(outSize, c.cout), 3);
  try {
    if (c.kind === "conv_fwd") return await medianMs(() => tf.dispose(f(x, w)), c);
    return await medianMs(() => tf.dispose(tf.grads(f)([x, w], dy)), c);
  } finally {
    tf.dispose([x, w, dy]);
  }
}

async function timeConvTranspose(c: BenchCase): Promise<number> {
  const k = c.kernel, big = c.size * c.stride;
  const x = randn(cube(c.size, c.cin), 1);
  const w = randn([k, k, k, c.cout, c.cin], 2, Math.sqrt(2 / (k ** 3 * c.cin)));
  const outShape = cube(big, c.cout) as [number, number, number, number, number];
  const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv3dTranspose(a as tf.Tensor5D, b as tf.Tensor5D, outShape, 2, "same");
  const dy = randn(outShape, 3);
  try {
    if (c.kind === "conv_transpose_fwd") return await medianMs(() => tf.dispose(f(x, w)), c);
    return await medianMs(() => tf.dispose(tf.grads(f)([x, w], dy)), c);
  } finally {
    tf.dispose([x, w, dy]);
  }
}

/** A network (default the bench U-Net), its variables, an Adam optimizer and one random image/label pair at `size`³. */
function unetSetup(
  size: number,
  network: Layer = new BenchUNet3D({ numClasses: 2, base: 8 }),
  { batch = 1, shape = [size, size, size], classes = 2 }: {
    batch?: number;
    shape?: readonly number[];
    classes?: number;
  } = {},
): {
  step: () => void;
  dispose: () => void;
} {
  const net = network;
  const store = new VariableStore({ seed: 1 });
  const optimizer = createOptimizer("adam", 1e-3); // the engine's Adam, as `train` runs it
  const x = randn([batch, ...shape, 1], 1);
  // integer labels and NiftyTS's CrossEntropy loss, as PyTorch's side uses F.cross_entropy
  const labels = tf.tidy(() => tf.cast(tf.mul(tf.greater(randn([batch, ...shape, 1], 2), 0), classes - 1), "int32"));
  const crossEntropy = getLoss("CrossEntropy", { nClasses: classes });
  const loss = (p: tf.Tensor) => crossEntropy(p, labels);
  const step = () => tf.dispose(trainStepLoss(net, x, { store, optimizer, loss }));
  return {
    step,
    dispose: () => {
      tf.dispose([x, labels]);
      optimizer.dispose();
      store.records().forEach((r) => r.variable.dispose());
    },
  };
}

/** The network a training-step case trains: HighRes3DNet (ReLU) or the bench U-Net. */
function trainStepNetwork(c: BenchCase): Layer | undefined {
  return c.kind === "highres3dnet_step" ? new HighRes3DNet({ numClasses: 2, actiFunc: "relu" }) : undefined;
}

async function timeTrainStep(c: BenchCase): Promise<number> {
  const u = unetSetup(c.size, trainStepNetwork(c));
  try {
    return await medianMs(() => void u.step(), { repeats: c.repeats, warmup: c.repeats > 1 ? 2 : 1 });
  } finally {
    u.dispose();
  }
}

async function timeToyNetStep(c: BenchCase): Promise<number> {
  const u = unetSetup(c.size, new ToyNet({ numClasses: c.cout }), {
    batch: 2,
    shape: c.windowShape,
    classes: c.cout,
  });
  try {
    return await medianMs(() => void u.step(), { repeats: c.repeats, warmup: 3 });
  } finally {
    u.dispose();
  }
}

/** Softmax over the channels of channels-last `data`, in place. */
function softmaxChannels(data: Float32Array, channels: number): void {
  for (let i = 0; i < data.length; i += channels) {
    let max = -Infinity, sum = 0;
    for (let c = 0; c < channels; c++) max = Math.max(max, data[i + c]);
    for (let c = 0; c < channels; c++) sum += data[i + c] = Math.exp(data[i + c] - max);
    for (let c = 0; c < channels; c++) data[i + c] /= sum;
  }
}

/**
 * Sliding-window inference of a `size`³ volume with non-overlapping `window`³ windows, softmax probabilities written
 * into the full volume. On the cpu backend, networks that compile (`compileInference`: HighRes3DNet, the U-Net) run
 * fused on reused buffers; others and other backends go window by window through tfjs.
 */
async function timeSlidingWindow(c: BenchCase): Promise<number> {
  const net = c.network === "highres3dnet"
    ? new HighRes3DNet({ numClasses: 2, actiFunc: "relu" })
    : new BenchUNet3D({ numClasses: 2, base: 8 });
  const store = new VariableStore({ seed: 1 });
  const n = c.size, win = c.window ?? 64;
  const volume = randn([1, n, n, n, 1], 1);
  const out = new Float32Array(n * n * n * 2);
  const origins: number[][] = [];
  for (let z = 0; z < n; z += win) {
    for (let y = 0; y < n; y += win) for (let x = 0; x < n; x += win) origins.push([z, y, x]);
  }
  /** Writes one window's probabilities back into the full volume. */
  const place = (probs: Float32Array, [z0, y0, x0]: number[]) => {
    for (let z = 0; z < win; z++) {
      for (let y = 0; y < win; y++) {
        const src = ((z * win + y) * win) * 2;
        const dst = (((z0 + z) * n + y0 + y) * n + x0) * 2;
        out.set(probs.subarray(src, src + win * 2), dst);
      }
    }
  };
  tf.tidy(() => void applyNetwork(net, [tf.slice(volume, 0, [1, 8, 8, 8, 1])], { store, training: false }));
  const compiled = tf.getBackend() === "cpu" ? compileInference(net, store, [1, 8, 8, 8, 1]) : null;
  const program = compiled !== null && "run" in compiled ? compiled : null;
  const patch = new Float32Array(win ** 3);
  const inferCompiled = (p: InferenceProgram, host: Float32Array) => {
    for (const [z0, y0, x0] of origins) {
      for (let z = 0; z < win; z++) {
        for (let y = 0; y < win; y++) {
          const src = ((z0 + z) * n + y0 + y) * n + x0;
          patch.set(host.subarray(src, src + win), (z * win + y) * win);
        }
      }
      const { data } = p.run(patch, [1, win, win, win, 1]);
      softmaxChannels(data, 2);
      place(data, [z0, y0, x0]);
    }
  };
  const inferTfjs = async () => {
    for (const [z0, y0, x0] of origins) {
      const t = tf.tidy(() => {
        const patch = tf.slice(volume, [0, z0, y0, x0, 0], [1, win, win, win, 1]);
        return tf.softmax(applyNetwork(net, [patch], { store, training: false }));
      });
      const probs = await t.data() as Float32Array;
      t.dispose();
      place(probs, [z0, y0, x0]);
    }
  };
  try {
    // warm-up on one window, as the PyTorch side does (plans oneDNN kernels and buffers, or tfjs's kernels)
    if (program) {
      const host = volume.dataSync() as Float32Array;
      program.run(patch, [1, win, win, win, 1]);
      return await medianMs(() => inferCompiled(program, host), { repeats: c.repeats, warmup: 0 });
    }
    tf.tidy(() => void applyNetwork(net, [tf.slice(volume, 0, [1, win, win, win, 1])], { store, training: false }));
    return await medianMs(inferTfjs, { repeats: c.repeats, warmup: 0 });
  } finally {
    program?.dispose();
    volume.dispose();
    store.records().forEach((r) => r.variable.dispose());
  }
}

async function timeMeshNetVolume(c: BenchCase): Promise<number> {
  const net = new MeshNet({ numClasses: c.cout, channels: c.channels, actiFunc: c.activation });
  const store = new VariableStore({ seed: 1 });
  const volume = tf.randomUniform([1, c.size, c.size, c.size, 1], 0, 1, "float32", 1);
  try {
    const t0 = performance.now();
    await predictVolumeAsync(net, store, volume, { output: "labels" });
    return performance.now() - t0;
  } finally {
    volume.dispose();
    store.dispose();
  }
}

/** Runs one case on the active backend and returns its median time in ms. */
export function runNiftyTsCase(c: BenchCase): Promise<number> {
  registerKernelFixes(); // gradients tfjs lacks (conv3dTranspose's among them)
  switch (c.kind) {
    case "conv_fwd":
    case "conv_fwd_bwd":
      return timeConv(c);
    case "conv_transpose_fwd":
    case "conv_transpose_fwd_bwd":
      return timeConvTranspose(c);
    case "unet_step":
    case "highres3dnet_step":
      return timeTrainStep(c);
    case "sliding_window":
      return timeSlidingWindow(c);
    case "meshnet_volume":
      return timeMeshNetVolume(c);
    case "toynet_step":
      return timeToyNetStep(c);
    case "zoo_run":
      return runZooCase(c);
  }
}

/**
 * Time per kernel name (ms, summed over calls) in one step of a training-step case (`unet_step`,
 * `highres3dnet_step`) after its warm-up steps, largest first.
 */
export async function profileTrainStep(c: BenchCase): Promise<Array<{ kernel: string; ms: number; calls: number }>> {
  registerKernelFixes();
  const u = unetSetup(c.size, trainStepNetwork(c));
  try {
    for (let i = 0; i < (c.repeats > 1 ? 2 : 1); i++) u.step();
    await settle();
    const info = await tf.profile(() => void u.step());
    const byName = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
      e.calls++;
      byName.set(k.name, e);
    }
    return [...byName].map(([kernel, e]) => ({ kernel, ...e })).sort((a, b) => b.ms - a.ms);
  } finally {
    u.dispose();
  }
}
