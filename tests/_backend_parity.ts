/**
 * Backend parity: a network's forward outputs, and the gradient of a loss w.r.t. every trainable variable, on a
 * device backend against the cpu backend with the same variables and inputs.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import * as networks from "../networks/mod.ts";

/**
 * What the computation needs from the library: tfjs, the DSL and the networks. Under Deno these are the modules
 * themselves; in a browser page, the bundle's namespace (`web/niftyts.ts` re-exports all three).
 */
export type ParityLibrary = typeof networks & {
  tf: typeof tf;
  VariableStore: typeof VariableStore;
  applyNetwork: typeof applyNetwork;
};

/** The library under Deno. */
export const DENO_LIBRARY: ParityLibrary = { ...networks, tf, VariableStore, applyNetwork };

/**
 * One network of the matrix: how to build it from the library (a self-contained arrow function: a browser page
 * evaluates its source), its inputs' shapes, and whether gradients are compared.
 */
export interface ParityCase {
  readonly name: string;
  readonly build: (n: ParityLibrary) => unknown;
  readonly inputs: readonly number[][];
  readonly gradients?: boolean;
}

/** Variables as plain data (JSON-safe, so a page can receive them). */
export type PlainWeights = Record<string, { shape: number[]; values: number[] }>;

/** What one backend computed, as plain data: each output tensor, each variable's gradient, the variables used. */
export interface PlainComputed {
  outputs: Record<string, number[]>;
  grads: Record<string, number[]>;
  weights: PlainWeights;
}

/**
 * Builds the network of `spec` (its `build` as a function, or as source text in a page), creates its variables
 * (seed 3) or assigns `weights`, and computes on tfjs's active backend: the forward outputs on seeded inputs
 * (seeds 100 + i), and with `gradients` the gradient of Σ_i Σ(output_i · r_i) (r_i seeded normal, seeds 7 + i) w.r.t.
 * every trainable variable. Self-contained (uses only `n`): a browser page runs this very function on its backend.
 */
export async function computeOn(
  n: ParityLibrary,
  spec: { build: string | ((n: ParityLibrary) => unknown); inputs: readonly number[][]; gradients?: boolean },
  weights?: PlainWeights,
): Promise<PlainComputed> {
  const tf = n.tf;
  // Deterministic Math.random for layers that draw unseeded noise (VAE sampling), so backends see the same values.
  const fixedRandom = <T>(fn: () => T): T => {
    const saved = Math.random;
    let state = 12345;
    Math.random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    try {
      return fn();
    } finally {
      Math.random = saved;
    }
  };
  const tensorsOf = (out: unknown): [string, tf.Tensor][] =>
    out instanceof tf.Tensor
      ? [["output", out]]
      : Object.entries(out as Record<string, unknown>).filter((e): e is [string, tf.Tensor] =>
        e[1] instanceof tf.Tensor
      );
  const build = typeof spec.build === "string" ? (0, eval)(spec.build) as (n: ParityLibrary) => unknown : spec.build;
  const net = build(n) as Parameters<typeof n.applyNetwork>[0];
  const store = new n.VariableStore({ seed: 3 });
  const inputs = spec.inputs.map((s, i) => tf.randomNormal([...s], 0, 1, "float32", 100 + i));
  try {
    tf.tidy(() => void fixedRandom(() => n.applyNetwork(net, inputs, { store })));
    // The variables as created (before a training-mode pass moves the batch-norm statistics).
    const used: PlainWeights = {};
    for (const r of store.records()) {
      if (weights) tf.tidy(() => r.variable.assign(tf.tensor(weights[r.path].values, weights[r.path].shape)));
      used[r.path] = { shape: [...r.shape], values: Array.from(await r.variable.data() as Float32Array) };
    }
    const outputs: Record<string, number[]> = {};
    const forward = tf.tidy(() => tensorsOf(fixedRandom(() => n.applyNetwork(net, inputs, { store }))));
    for (const [name, t] of forward) outputs[name] = Array.from(await t.data() as Float32Array);
    tf.dispose(forward.map(([, t]) => t));
    const grads: Record<string, number[]> = {};
    if (spec.gradients) {
      const records = store.records().filter((r) => r.trainable);
      const { value, grads: g } = tf.variableGrads(() =>
        fixedRandom(() => {
          const ts = tensorsOf(n.applyNetwork(net, inputs, { store, training: true }));
          // A loss that weighs every output element differently, so no gradient is trivially symmetric.
          return tf.addN(ts.map(([, t], i) => tf.sum(tf.mul(t, tf.randomNormal(t.shape, 0, 1, "float32", 7 + i)))));
        }) as tf.Scalar, records.map((r) => r.variable));
      for (const r of records) grads[r.path] = Array.from(await g[r.variable.name].data() as Float32Array);
      tf.dispose([value, ...Object.values(g)]);
    }
    return { outputs, grads, weights: used };
  } finally {
    tf.dispose(inputs);
    store.dispose();
  }
}

/** The largest relative errors of `got` against `ref` (cpu): over the outputs, and over the per-variable gradients. */
export function compareComputed(
  ref: PlainComputed,
  got: PlainComputed,
): { forward: number; worstOutput: string; gradient: number; worstGradient: string; zeroOutput: boolean } {
  let forward = 0, worstOutput = "", zeroOutput = false;
  for (const [name, a] of Object.entries(ref.outputs)) {
    const b = got.outputs[name] ?? [];
    const e = relativeError(Float32Array.from(a), Float32Array.from(b));
    if (e > forward) [forward, worstOutput] = [e, name];
    if (b.every((v) => v === 0) && a.some((v) => v !== 0)) zeroOutput = true;
  }
  let gradient = 0, worstGradient = "";
  for (const [path, a] of Object.entries(ref.grads)) {
    const e = relativeError(Float32Array.from(a), Float32Array.from(got.grads[path] ?? []));
    if (e > gradient) [gradient, worstGradient] = [e, path];
  }
  return { forward, worstOutput, gradient, worstGradient, zeroOutput };
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

/** The largest relative errors of `backend` against cpu, both computed in this Deno process. */
export async function parity(
  c: ParityCase,
  backend: string,
): Promise<{ forward: number; worstOutput: string; gradient: number; worstGradient: string; zeroOutput: boolean }> {
  await useBackend("cpu");
  const ref = await computeOn(DENO_LIBRARY, c);
  await useBackend(backend);
  try {
    return compareComputed(ref, await computeOn(DENO_LIBRARY, c, ref.weights));
  } finally {
    await useBackend("cpu");
  }
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
