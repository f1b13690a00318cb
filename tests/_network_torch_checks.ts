/**
 * Checks shared by the network tests whose references are PyTorch re-implementations (deepmedic, scalenet, holisticnet, dense_vnet, resnet, se_resnet, vae,
 * simple_gan, simulator_gan): parameter counts against the PyTorch re-implementations in
 * `tests/reference/networks_torch_counts.py`, the variable-name snapshot, gradients of arbitrary losses over chosen
 * variables, and a training loop for layers that do not return one tensor.
 *
 * Snapshots live in `tests/fixtures/networks_torch_variables.json` (`"<path> [shape]"`, `*` marking non-trainable
 * state); `NIFTYTS_UPDATE_SNAPSHOTS=1 deno test -A tests/networks_<name>_test.ts` rewrites the entries it checks.
 *
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { type Layer, type NetworkGraph, recordGraph, VariableStore } from "../src/dsl/mod.ts";
import { loadFixture } from "./_util.ts";

/** One case of `networks_torch_counts.json`. */
export interface ReferenceCase {
  inputs: number[][];
  trainable: number;
  total: number;
  outputs?: number[][];
}

/** The PyTorch re-implementations' counts and output shapes. */
export const REFERENCE = loadFixture<Record<string, ReferenceCase>>("networks_torch_counts");

const SNAPSHOT_URL = new URL("./fixtures/networks_torch_variables.json", import.meta.url);
const updating = Deno.env.get("NIFTYTS_UPDATE_SNAPSHOTS") === "1";

/** `"<path> [shape]"` per variable, sorted, with a trailing ` *` on non-trainable state. */
export function variableNames(store: VariableStore): string[] {
  return store.records().map((r) => `${r.path} [${r.shape}]${r.declaredTrainable ? "" : " *"}`).sort();
}

/** Compares (or, when updating, records) the variable snapshot of `key`. */
export function assertSnapshot(key: string, names: string[]): void {
  let all: Record<string, string[]> = {};
  try {
    all = JSON.parse(Deno.readTextFileSync(SNAPSHOT_URL));
  } catch {
    if (!updating) throw new Error(`missing ${SNAPSHOT_URL.pathname}: run with NIFTYTS_UPDATE_SNAPSHOTS=1`);
  }
  if (updating) {
    all[key] = names;
    const sorted = Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : 1)));
    Deno.writeTextFileSync(SNAPSHOT_URL, JSON.stringify(sorted, null, 1) + "\n");
    return;
  }
  assert(all[key], `no variable snapshot for "${key}": run with NIFTYTS_UPDATE_SNAPSHOTS=1`);
  assertEquals(names, all[key]);
}

/**
 * Records `net` on zeros of the reference case's input shapes; asserts its trainable and total parameter counts
 * equal the PyTorch re-implementation's and its variables equal the snapshot. Returns the graph.
 */
export function assertReferenceCounts(key: string, net: Layer<tf.Tensor[], unknown>): NetworkGraph {
  const ref = REFERENCE[key];
  assert(ref, `no reference case "${key}"`);
  const store = new VariableStore();
  try {
    const graph = recordGraph(net, ref.inputs, { store });
    assertEquals(graph.trainableParameters, ref.trainable, `${key}: trainable parameters`);
    assertEquals(graph.parameters, ref.total, `${key}: parameters incl. moving statistics`);
    assertSnapshot(key, variableNames(store));
    return graph;
  } finally {
    store.dispose();
  }
}

/**
 * Gradients of `loss` with respect to the trainable variables whose path passes `select`: asserts all are finite,
 * and non-zero except those matching `nearZero` (biases right before a batch norm, whose gradient is zero in exact
 * arithmetic), which must be below 1e-3 of the largest gradient. Returns the largest |gradient| per path.
 */
export function assertGradients(
  store: VariableStore,
  loss: () => tf.Scalar,
  { select = () => true, nearZero }: { select?: (path: string) => boolean; nearZero?: RegExp } = {},
): Map<string, number> {
  const records = store.records().filter((r) => r.trainable && select(r.path));
  assert(records.length > 0, "no trainable variables selected");
  const peaks = new Map<string, number>();
  tf.tidy(() => {
    const { grads } = tf.variableGrads(loss, records.map((r) => r.variable));
    for (const r of records) {
      const g = Array.from(grads[r.variable.name].dataSync() as Float32Array);
      assert(g.every(Number.isFinite), `${r.path}: non-finite gradient`);
      peaks.set(r.path, g.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    }
  });
  const largest = Math.max(...peaks.values());
  const zero = [...peaks].filter(([p, v]) => v === 0 && !nearZero?.test(p)).map(([p]) => p);
  assertEquals(zero, [], `variables with all-zero gradients: ${zero.join(", ")}`);
  const notSmall = [...peaks].filter(([p, v]) => nearZero?.test(p) && v > 1e-3 * largest).map(([p]) => p);
  assertEquals(notSmall, [], `gradients expected ≈ 0 (bias before batch norm) are not: ${notSmall.join(", ")}`);
  return peaks;
}

/**
 * `steps` Adam steps on `loss` over the selected trainable variables; asserts the live tensor count is constant
 * from step 2 on and returns the losses.
 */
export function trainLosses(
  store: VariableStore,
  loss: () => tf.Scalar,
  { steps = 50, learningRate = 0.01, select = () => true }: {
    steps?: number;
    learningRate?: number;
    select?: (path: string) => boolean;
  } = {},
): number[] {
  const vars = store.records().filter((r) => r.trainable && select(r.path)).map((r) => r.variable);
  const optimizer = tf.train.adam(learningRate);
  const losses: number[] = [];
  let count = -1;
  try {
    for (let i = 0; i < steps; i++) {
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(loss, vars);
        losses.push(value.dataSync()[0]);
        optimizer.applyGradients(grads as tf.NamedTensorMap as Record<string, tf.Variable>);
      });
      const now = tf.memory().numTensors;
      if (i === 1) count = now;
      if (i > 1) assertEquals(now, count, `tensor count changed at step ${i}: ${count} → ${now}`);
    }
  } finally {
    optimizer.dispose();
  }
  assert(losses.every(Number.isFinite), `non-finite loss: ${losses}`);
  return losses;
}

/** Mean of the first and of the last `n` values, for noisy (sampling, dropout) losses. */
export function ends(values: number[], n = 3): { first: number; last: number } {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return { first: mean(values.slice(0, n)), last: mean(values.slice(-n)) };
}

/** Asserts `fn` throws with `fragment` before creating variables or tensors. */
export function assertRejectsEarly(fn: (store: VariableStore) => unknown, fragment: string): void {
  const store = new VariableStore();
  const before = tf.memory().numTensors;
  try {
    fn(store);
  } catch (e) {
    assert((e as Error).message.includes(fragment), `error "${(e as Error).message}" lacks "${fragment}"`);
    assertEquals(store.records().length, 0, "variables were created before the input check");
    assertEquals(tf.memory().numTensors, before, "tensors were created before the input check");
    store.dispose();
    return;
  }
  store.dispose();
  throw new Error(`expected an error containing "${fragment}"`);
}
