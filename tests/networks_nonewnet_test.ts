import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { getNetwork, NoNewNet } from "../networks/mod.ts";
import { assertThrows } from "./_util.ts";
import { assertGradientsFlow, assertMatchesSpec, assertTrains, crossEntropy, SPECS } from "./_network_checks.ts";

await useBackend("cpu");

const NARROW = { nFeatures: [2, 3, 4, 5, 6] as [number, number, number, number, number] };

// Expected variables and counts: tests/reference/networks_specs.py, written from NiftyNet's no_new_net.py.
Deno.test(`nonewnet variables and parameter count (${SPECS.nonewnet.trainable}) match NiftyNet's`, () => {
  assertMatchesSpec(getNetwork("nonewnet").factory({ numClasses: 2 }), [1, 16, 16, 16, 1], SPECS.nonewnet);
});

Deno.test("NoNewNet keeps the input size ([1,16,32,16,2] → [1,16,32,16,3]) and rejects 2D or sizes not ÷ 16", () => {
  const net = new NoNewNet({ numClasses: 3, ...NARROW });
  const store = new VariableStore();
  const y = tf.tidy(() => applyNetwork(net, [tf.ones([1, 16, 32, 16, 2])], { store }));
  assertEquals(y.shape, [1, 16, 32, 16, 3]);
  y.dispose();
  store.dispose();
  assertThrows(() => net.checkInput([1, 32, 32, 1]), "expected a 3D");
  assertThrows(() => net.checkInput([1, 16, 8, 16, 1]), "divisible by 16");
});

function task(seed: number, size: number) {
  const x = tf.randomNormal([1, size, size, size, 1], 0, 1, "float32", seed);
  const labels = tf.tidy(() => tf.squeeze(tf.greater(x, 0), [4]));
  return { x, labels };
}

Deno.test("NoNewNet (narrow): one training step gives finite non-zero gradients for every trainable variable", () => {
  // 32³: at 16³ the bottom block would see 1³ maps, where instance norm has no gradient.
  const { x, labels } = task(1, 32);
  assertGradientsFlow(new NoNewNet({ numClasses: 2, ...NARROW }), x, crossEntropy(labels, 2));
  tf.dispose([x, labels]);
});

Deno.test("NoNewNet (narrow) learns a tiny thresholding task in 30 Adam steps with a flat tensor count", async () => {
  const { x, labels } = task(2, 16);
  await assertTrains(new NoNewNet({ numClasses: 2, ...NARROW }), x, crossEntropy(labels, 2));
  tf.dispose([x, labels]);
});
