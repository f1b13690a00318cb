import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { getNetwork, VNet } from "../networks/mod.ts";
import { assertThrows } from "./_util.ts";
import { assertGradientsFlow, assertMatchesSpec, assertTrains, crossEntropy, SPECS } from "./_network_checks.ts";

await useBackend("cpu");

const NARROW = { nFeatures: [2, 3, 4, 5, 6] as [number, number, number, number, number] };

// Expected variables and counts: tests/reference/networks_specs.py, written from NiftyNet's vnet.py.
Deno.test(`vnet variables and parameter count (${SPECS.vnet.trainable}) match NiftyNet's`, () => {
  assertMatchesSpec(getNetwork("vnet").factory({ numClasses: 2 }), [1, 16, 16, 16, 1], SPECS.vnet);
});

Deno.test("VNet with a 2-channel input projects L1's 32-channel bypass (residual_sum/proj), shapes as NiftyNet", () => {
  // Same spec as the full network plus VNet/L1/residual_sum/proj/w; checked on a narrow copy for speed.
  const store = new VariableStore();
  tf.tidy(() => void applyNetwork(new VNet({ numClasses: 2, ...NARROW }), [tf.ones([1, 16, 16, 16, 2])], { store }));
  assertEquals(store.get("VNet/L1/residual_sum/proj/w")?.shape, [1, 1, 1, 4, 2]);
  store.dispose();
  const full = SPECS.vnet_2ch.variables.find(([p]) => p === "VNet/L1/residual_sum/proj/w");
  assertEquals(full?.[1], [1, 1, 1, 32, 16]);
});

Deno.test("VNet output shapes: 3D [1,16,32,16,1] → [1,16,32,16,3], 2D [2,32,16,1] → [2,32,16,3]", () => {
  for (const [input, output] of [[[1, 16, 32, 16, 1], [1, 16, 32, 16, 3]], [[2, 32, 16, 1], [2, 32, 16, 3]]]) {
    const store = new VariableStore();
    const y = tf.tidy(() => applyNetwork(new VNet({ numClasses: 3, ...NARROW }), [tf.ones(input)], { store }));
    assertEquals(y.shape, output);
    y.dispose();
    store.dispose();
  }
});

Deno.test("VNet rejects spatial sizes not divisible by 16 (NiftyNet asserts 8, but four downsamplings need 16)", () => {
  const net = new VNet({ numClasses: 2, ...NARROW });
  assertThrows(() => net.checkInput([1, 24, 16, 16, 1]), "divisible by 16");
  const store = new VariableStore();
  const x = tf.zeros([1, 8, 16, 16, 1]);
  assertThrows(() => applyNetwork(net, [x], { store }), "got [8,16,16]");
  x.dispose();
  assertEquals(store.records().length, 0);
});

function task(seed: number, size: number) {
  const x = tf.randomNormal([1, size, size, size, 1], 0, 1, "float32", seed);
  const labels = tf.tidy(() => tf.squeeze(tf.greater(x, 0), [4]));
  return { x, labels };
}

Deno.test("VNet (narrow): one training step gives finite non-zero gradients for every trainable variable", () => {
  // 32³: with 16³ the lowest block sees one voxel, where a few relus can switch a whole narrow block off.
  const { x, labels } = task(1, 32);
  assertGradientsFlow(new VNet({ numClasses: 2, ...NARROW }), x, crossEntropy(labels, 2));
  tf.dispose([x, labels]);
});

Deno.test("VNet (narrow) on 2D inputs learns a tiny thresholding task in 30 Adam steps with a flat tensor count", async () => {
  // 2D keeps the 30 steps cheap (5×5×5 kernels are slow on tfjs cpu); the 3D gradients are checked above.
  const x = tf.randomNormal([1, 16, 16, 1], 0, 1, "float32", 2);
  const labels = tf.tidy(() => tf.squeeze(tf.greater(x, 0), [3]));
  await assertTrains(new VNet({ numClasses: 2, ...NARROW }), x, crossEntropy(labels, 2));
  tf.dispose([x, labels]);
});
