/**
 * Checks every network test runs: variable snapshot against a spec, gradients of one training step, loss going
 * down over a few steps, tensor count flat over steps, and the input checks.
 *
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { applyNetwork, type Layer, recordGraph, VariableStore } from "../src/dsl/mod.ts";
import { trainStep } from "../src/engine/train_step.ts";
import { loadFixture } from "./_util.ts";

/** One network's expected variables, from `tests/reference/networks_specs.py`. */
export interface NetworkSpec {
  variables: [string, number[], boolean][];
  trainable: number;
  total: number;
}

/** The specs written by `tests/reference/networks_specs.py` (NiftyNet code reading). */
export const SPECS = loadFixture<Record<string, NetworkSpec>>("networks_specs");

type Net = Layer<[tf.Tensor], tf.Tensor>;

/** Sorted [path, shape, trainable] of every variable in a store. */
export function variableSnapshot(store: VariableStore): [string, number[], boolean][] {
  return store.records()
    .map((r): [string, number[], boolean] => [r.path, [...r.shape], r.declaredTrainable])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Records the graph on zeros of `inputShape` and compares variables and parameter counts with the spec. */
export function assertMatchesSpec(net: Net, inputShape: number[], spec: NetworkSpec): void {
  const store = new VariableStore();
  try {
    const graph = recordGraph(net as Layer<tf.Tensor[], tf.Tensor>, [inputShape], { store });
    assertEquals(graph.trainableParameters, spec.trainable);
    assertEquals(graph.parameters, spec.total);
    assertEquals(variableSnapshot(store), spec.variables);
  } finally {
    store.dispose();
  }
}

/** Softmax cross-entropy against integer labels (last axis = classes). */
export function crossEntropy(labels: tf.Tensor, numClasses: number): (logits: tf.Tensor) => tf.Scalar {
  return (logits) => tf.losses.softmaxCrossEntropy(tf.oneHot(labels.toInt(), numClasses), logits) as tf.Scalar;
}

/** Asserts every trainable variable gets a finite gradient with at least one non-zero element. */
export function assertGradientsFlow(net: Net, x: tf.Tensor, loss: (y: tf.Tensor) => tf.Scalar, seed = 1): void {
  const store = new VariableStore({ seed });
  try {
    tf.tidy(() => void applyNetwork(net, [x], { store }));
    const records = store.records().filter((r) => r.trainable);
    assert(records.length > 0, "network has no trainable variables");
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => loss(applyNetwork(net, [x], { store, training: true })),
        records.map((r) => r.variable),
      );
      const bad: string[] = [];
      for (const r of records) {
        const g = grads[r.variable.name].dataSync();
        if (!g.every(Number.isFinite) || !g.some((v) => v !== 0)) bad.push(r.path);
      }
      assertEquals(bad, [], `variables with non-finite or all-zero gradients: ${bad.join(", ")}`);
    });
  } finally {
    store.dispose();
  }
}

/** Trains `steps` Adam steps; asserts the loss went down and the live tensor count never moved after step 1. */
export async function assertTrains(
  net: Net,
  x: tf.Tensor,
  loss: (y: tf.Tensor) => tf.Scalar,
  { steps = 50, learningRate = 0.01, seed = 1 }: { steps?: number; learningRate?: number; seed?: number } = {},
): Promise<{ first: number; last: number }> {
  const store = new VariableStore({ seed });
  const optimizer = tf.train.adam(learningRate);
  try {
    const losses: number[] = [];
    let count = -1;
    for (let i = 0; i < steps; i++) {
      losses.push(await trainStep(net, x, { store, optimizer, loss }));
      const now = tf.memory().numTensors;
      if (i === 1) count = now;
      if (i > 1) assertEquals(now, count, `tensor count changed at step ${i}: ${count} → ${now}`);
    }
    assert(losses.every(Number.isFinite), `non-finite loss: ${losses}`);
    const first = losses[0], last = losses[losses.length - 1];
    assert(last < 0.9 * first, `loss did not go down enough over ${steps} steps: ${first} → ${last}`);
    return { first, last };
  } finally {
    optimizer.dispose();
    store.dispose();
  }
}
