import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { variableGrads } from "../src/engine/variable_grads.ts";
import { HighRes3DNet } from "../networks/mod.ts";
import { assertNoTensorLeak, assertThrows } from "./_util.ts";

await useBackend("cpu");

/** An identity op whose gradient records the live tensor bytes when the backward pass reaches it. */
function probe(seen: number[]): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.clone(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => {
      seen.push(tf.memory().numBytes);
      return tf.clone(dy);
    },
  })) as (x: tf.Tensor) => tf.Tensor;
}

/** A tiny HighRes3DNet (residual sums, fused batch norm + prelu) with its variables and a loss over `input`. */
function setup() {
  const net = new HighRes3DNet({ numClasses: 2, nFeatures: [4, 6, 8, 8] });
  const store = new VariableStore({ seed: 3 });
  const x = tf.randomNormal([1, 8, 8, 8, 1], 0, 1, "float32", 4);
  const r = tf.randomNormal([1, 8, 8, 8, 2], 0, 1, "float32", 5);
  tf.tidy(() => void applyNetwork(net, [x], { store }));
  // a trainable input scale puts the probe on the gradient's path
  const scale = tf.variable(tf.scalar(1));
  const vars = [scale, ...store.trainableVariables()];
  const loss = (seen: number[] = []) => () =>
    tf.sum(tf.mul(applyNetwork(net, [probe(seen)(tf.mul(x, scale))], { store, training: true }), r)) as tf.Scalar;
  const dispose = () => {
    tf.dispose([x, r, scale]);
    store.dispose();
  };
  return { vars, loss, dispose };
}

Deno.test("variableGrads frees gradients and saved tensors on the way, from the first gradient of the process on", () => {
  // first in this file: tfjs creates `state.activeTape` only at its first tape, which once sent us to the fallback
  const { vars, loss, dispose } = setup();
  const ours: number[] = [], stock: number[] = [];
  tf.dispose(Object.values(variableGrads(loss(ours), vars).grads));
  tf.dispose(Object.values(tf.variableGrads(loss(stock), vars).grads));
  assertEquals([ours.length, stock.length], [1, 1]);
  // tfjs still holds every intermediate gradient and saved tensor when the backward pass reaches the input
  assert(ours[0] < 0.3 * stock[0], `live bytes at the input: ours ${ours[0]}, tfjs ${stock[0]}`);
  dispose();
});

Deno.test("variableGrads gives tf.variableGrads's value and gradients bit for bit (HighRes3DNet, prelu)", () => {
  const { vars, loss, dispose } = setup();
  const ours = variableGrads(loss(), vars), stock = tf.variableGrads(loss(), vars);
  assertEquals(ours.value.dataSync(), stock.value.dataSync());
  assertEquals(Object.keys(ours.grads).sort(), Object.keys(stock.grads).sort());
  assertEquals(Object.keys(ours.grads).length, vars.length);
  assert(Object.keys(ours.grads).length > 20);
  for (const name of Object.keys(stock.grads)) {
    assertEquals(ours.grads[name].dataSync(), stock.grads[name].dataSync(), name);
  }
  tf.dispose([ours.value, stock.value, ...Object.values(ours.grads), ...Object.values(stock.grads)]);
  dispose();
});

Deno.test("variableGrads keeps the tensor count flat across steps", async () => {
  const { vars, loss, dispose } = setup();
  const step = () => tf.tidy(() => void variableGrads(loss(), vars));
  step();
  await assertNoTensorLeak("5 gradient steps", () => {
    for (let i = 0; i < 5; i++) step();
  });
  dispose();
});

Deno.test("variableGrads: a gradient function that hands dy to two inputs, and accumulation into one of them", () => {
  const a = tf.variable(tf.tensor1d([1, 2, 3])), b = tf.variable(tf.tensor1d([4, 5, 6]));
  const both = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.add(args[0] as tf.Tensor, args[1] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => [dy, dy],
  })) as (x: tf.Tensor, y: tf.Tensor) => tf.Tensor;
  // d/da sum((a + b)·a + 3b) = (a + b) + a·… : (2a + b); d/db = a + 3
  const f = () => tf.sum(tf.add(tf.mul(both(a, b), a), tf.mul(3, b))) as tf.Scalar;
  const { value, grads } = variableGrads(f, [a, b]);
  assertEquals([...grads[a.name].dataSync()], [6, 9, 12]);
  assertEquals([...grads[b.name].dataSync()], [4, 5, 6]);
  assertEquals(value.dataSync()[0], 1 * 5 + 2 * 7 + 3 * 9 + 45);
  tf.dispose([value, a, b, ...Object.values(grads)]);
});

Deno.test("variableGrads names a non-scalar result and unconnected variables", () => {
  const a = tf.variable(tf.tensor1d([1, 2])), c = tf.variable(tf.tensor1d([1]));
  assertThrows(() => variableGrads(() => tf.mul(a, 2) as unknown as tf.Scalar, [a]), "must return a scalar");
  assertThrows(() => variableGrads(() => tf.sum(a), [c]), "no variable is connected");
  tf.dispose([a, c]);
});

Deno.test("variableGrads with a variable list read after f: variables f creates get tfjs's gradients", () => {
  const net = new HighRes3DNet({ numClasses: 2, nFeatures: [4, 6, 8, 8] });
  const x = tf.randomNormal([1, 8, 8, 8, 1], 0, 1, "float32", 4);
  const lazy = new VariableStore({ seed: 3 }), eager = new VariableStore({ seed: 3 });
  const loss = (store: VariableStore) => () => tf.mean(applyNetwork(net, [x], { store, training: true })) as tf.Scalar;
  const before = tf.memory().numTensors;
  const ours = variableGrads(loss(lazy), () => lazy.trainableVariables());
  tf.tidy(() => void applyNetwork(net, [x], { store: eager }));
  const stock = tf.variableGrads(loss(eager), eager.trainableVariables());
  const names = (store: VariableStore, grads: tf.NamedTensorMap) =>
    store.records().filter((r) => r.trainable).map((r) => [r.path, grads[r.variable.name]] as const);
  const [a, b] = [names(lazy, ours.grads), names(eager, stock.grads)];
  assert(a.length > 20);
  assertEquals(a.map(([p]) => p), b.map(([p]) => p));
  a.forEach(([path, g], i) => assertEquals(g.dataSync(), b[i][1].dataSync(), path));
  assertEquals(ours.value.dataSync(), stock.value.dataSync());
  tf.dispose([ours.value, stock.value, ...Object.values(ours.grads), ...Object.values(stock.grads)]);
  lazy.dispose();
  eager.dispose();
  assertEquals(tf.memory().numTensors, before);
  x.dispose();
});

Deno.test("variableGrads disposes the forward pass when f's result or the variable list is bad", () => {
  const a = tf.variable(tf.tensor1d([1, 2]));
  const before = tf.memory().numTensors;
  assertThrows(() => variableGrads(() => tf.sum(tf.mul(a, 2)), () => []), "none of the variables is trainable");
  assertThrows(() => variableGrads(() => tf.mul(a, 2) as unknown as tf.Scalar, () => [a]), "must return a scalar");
  assertEquals(tf.memory().numTensors, before);
  a.dispose();
});
