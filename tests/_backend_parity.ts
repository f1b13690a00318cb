/**
 * Backend parity: a network's forward outputs, and the gradient of a loss w.r.t. every trainable variable, on a
 * device backend against the cpu backend with the same variables and inputs.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, type Layer, VariableStore } from "../src/dsl/mod.ts";
import type { NamedTensors } from "../src/weights/mod.ts";

/** One network of the matrix: how to build it, its inputs' shapes, and whether gradients are compared. */
export interface ParityCase {
  readonly name: string;
  readonly build: () => Layer<tf.Tensor[], unknown>;
  readonly inputs: readonly number[][];
  readonly gradients?: boolean;
}

/** What one backend computed: every output tensor (flattened from the network's output) and every gradient. */
interface Computed {
  outputs: Map<string, Float32Array>;
  grads: Map<string, Float32Array>;
}

/** A network's tensors in a fixed order: the output itself, or an output object's tensor fields. */
function outputTensors(out: unknown): [string, tf.Tensor][] {
  if (out instanceof tf.Tensor) return [["output", out]];
  return Object.entries(out as Record<string, unknown>).filter((e): e is [string, tf.Tensor] =>
    e[1] instanceof tf.Tensor
  );
}

/** Deterministic `Math.random` for layers that draw unseeded noise (VAE sampling), so backends see the same. */
function withFixedRandom<T>(fn: () => T): T {
  const saved = Math.random;
  let state = 12345;
  Math.random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  try {
    return fn();
  } finally {
    Math.random = saved;
  }
}

async function compute(c: ParityCase, backend: string, weights?: NamedTensors): Promise<
  Computed & {
    weights: NamedTensors;
  }
> {
  await useBackend(backend);
  const net = c.build();
  const store = new VariableStore({ seed: 3 });
  const inputs = c.inputs.map((s, i) => tf.randomNormal(s, 0, 1, "float32", 100 + i));
  try {
    tf.tidy(() => void withFixedRandom(() => applyNetwork(net, inputs, { store })));
    // The variables as created (before a training-mode pass moves the batch-norm statistics).
    if (weights) store.assignFrom(weights);
    const initial = weights ?? await store.toNamedTensors();
    const outputs = new Map<string, Float32Array>();
    const forward = tf.tidy(() => outputTensors(withFixedRandom(() => applyNetwork(net, inputs, { store }))));
    for (const [name, t] of forward) outputs.set(name, Float32Array.from(await t.data() as Float32Array));
    tf.dispose(forward.map(([, t]) => t));
    const grads = new Map<string, Float32Array>();
    if (c.gradients) {
      const records = store.records().filter((r) => r.trainable);
      const { value, grads: g } = tf.variableGrads(() =>
        withFixedRandom(() => {
          const ts = outputTensors(applyNetwork(net, inputs, { store, training: true }));
          // A loss that weighs every output element differently, so no gradient is trivially symmetric.
          return tf.addN(ts.map(([, t], i) => tf.sum(tf.mul(t, tf.randomNormal(t.shape, 0, 1, "float32", 7 + i)))));
        }) as tf.Scalar, records.map((r) => r.variable));
      for (const r of records) grads.set(r.path, Float32Array.from(await g[r.variable.name].data() as Float32Array));
      tf.dispose([value, ...Object.values(g)]);
    }
    return { outputs, grads, weights: initial };
  } finally {
    tf.dispose(inputs);
    store.dispose();
  }
}

/** max |a − b| / max |a| (0 when a is all zeros and b equals it). */
export function relativeError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(b[i])) return Infinity;
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** The largest relative errors of `backend` against cpu: over the outputs, and over the per-variable gradients. */
export async function parity(
  c: ParityCase,
  backend: string,
): Promise<{ forward: number; worstOutput: string; gradient: number; worstGradient: string; zeroOutput: boolean }> {
  const ref = await compute(c, "cpu");
  const got = await compute(c, backend, ref.weights);
  await useBackend("cpu");
  let forward = 0, worstOutput = "", zeroOutput = false;
  for (const [name, a] of ref.outputs) {
    const b = got.outputs.get(name)!;
    const e = relativeError(a, b);
    if (e > forward) [forward, worstOutput] = [e, name];
    if (b.every((v) => v === 0) && a.some((v) => v !== 0)) zeroOutput = true;
  }
  let gradient = 0, worstGradient = "";
  for (const [path, a] of ref.grads) {
    const e = relativeError(a, got.grads.get(path)!);
    if (e > gradient) [gradient, worstGradient] = [e, path];
  }
  return { forward, worstOutput, gradient, worstGradient, zeroOutput };
}

/** Whether a WebGPU adapter is available to this process (false, with the reason, when not). */
export async function webgpuAvailable(): Promise<{ ok: boolean; reason: string }> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return { ok: false, reason: "navigator.gpu is absent in this Deno" };
  try {
    if (await gpu.requestAdapter()) return { ok: true, reason: "" };
  } catch (e) {
    return { ok: false, reason: `requestAdapter failed: ${(e as Error).message}` };
  }
  return { ok: false, reason: "no WebGPU adapter (install mesa-vulkan-drivers for the llvmpipe software adapter)" };
}

/**
 * An op's output and its gradients w.r.t. every input (of Σ op(x)·r for a fixed random r) on `backend` and on cpu,
 * from the same inputs; returns the relative errors [forward, ...gradients] (gradients only when `gradients`).
 */
export async function opParity(
  op: (...xs: tf.Tensor[]) => tf.Tensor,
  shapes: readonly number[][],
  backend: string,
  { gradients = true, inputs }: { gradients?: boolean; inputs?: (shape: number[], i: number) => tf.Tensor } = {},
): Promise<number[]> {
  const run = async (name: string) => {
    await useBackend(name);
    const xs = shapes.map((s, i) => inputs ? inputs([...s], i) : tf.randomNormal(s, 0, 1, "float32", 50 + i));
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => op(...xs));
    const out = [Float32Array.from(await y.data() as Float32Array)];
    if (gradients) {
      const r = tf.randomNormal(y.shape, 0, 1, "float32", 9);
      const gs = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(op(...a), r)))(xs);
      for (const g of gs) out.push(Float32Array.from(await g.data() as Float32Array));
      tf.dispose([r, ...gs]);
    }
    y.dispose();
    const leaked = tf.memory().numTensors - before;
    tf.dispose(xs);
    if (leaked !== 0) throw new Error(`${name}: ${leaked} tensors leaked`);
    return out;
  };
  const ref = await run("cpu");
  const got = await run(backend);
  await useBackend("cpu");
  return ref.map((a, i) => relativeError(a, got[i]));
}
