import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { getNetwork, UNet3D } from "../networks/mod.ts";
import { assertThrows } from "./_util.ts";
import { assertGradientsFlow, assertMatchesSpec, assertTrains, crossEntropy, SPECS } from "./_network_checks.ts";

await useBackend("cpu");

const NARROW = { nFeatures: [2, 3, 4, 4, 5] as [number, number, number, number, number], border: 2 };

// Expected variables and counts: tests/reference/networks_specs.py, written from NiftyNet's unet.py (UNet3D).
// The crop border owns no variables, so a small border lets the full-width network run on an 8³ input.
Deno.test(`unet (UNet3D) variables and parameter count (${SPECS.unet.trainable}) match NiftyNet's`, () => {
  assertMatchesSpec(new UNet3D({ numClasses: 2, border: 2 }), [1, 8, 8, 8, 1], SPECS.unet);
});

Deno.test("unet is registered and its default crop gives 96³ → 8³ (NiftyNet's 44-voxel border)", () => {
  const net = getNetwork("unet").factory({ numClasses: 2 }) as UNet3D;
  assertEquals(net.border, 44);
  net.checkInput([1, 96, 96, 96, 1]);
  assertThrows(() => net.checkInput([1, 88, 88, 88, 1]), "must exceed twice the crop border (88)");
});

Deno.test("UNet3D output shapes: 3D [2,16,8,16,1] → [2,12,4,12,3] and 2D [1,16,16,2] → [1,12,12,3] (border 2)", () => {
  for (const [input, output] of [[[2, 16, 8, 16, 1], [2, 12, 4, 12, 3]], [[1, 16, 16, 2], [1, 12, 12, 3]]]) {
    const store = new VariableStore();
    const y = tf.tidy(() => applyNetwork(new UNet3D({ numClasses: 3, ...NARROW }), [tf.ones(input)], { store }));
    assertEquals(y.shape, output);
    y.dispose();
    store.dispose();
  }
});

Deno.test("UNet3D rejects sizes not divisible by 8 and 1D/4D inputs before any tensor work", () => {
  const net = new UNet3D({ numClasses: 2, ...NARROW });
  assertThrows(() => net.checkInput([1, 16, 12, 16, 1]), "divisible by 8");
  assertThrows(() => net.checkInput([1, 16, 1]), "expected a 2D");
  const store = new VariableStore();
  const x = tf.zeros([1, 12, 16, 1]);
  assertThrows(() => applyNetwork(net, [x], { store }), "got [12,16]");
  x.dispose();
  assertEquals(store.records().length, 0);
});

function task(seed: number, batch: number) {
  const x = tf.randomNormal([batch, 8, 8, 8, 1], 0, 1, "float32", seed);
  // The output is the centre 4³ (border 2): label its voxels by the sign of the input there.
  const labels = tf.tidy(() => tf.squeeze(tf.greater(tf.slice(x, [0, 2, 2, 2, 0], [batch, 4, 4, 4, 1]), 0), [4]));
  return { x, labels };
}

Deno.test("UNet3D (narrow): one training step gives finite non-zero gradients for every trainable variable", () => {
  // Batch 2: the lowest level is 1³, where batch norm over a single voxel would have no gradient.
  const { x, labels } = task(1, 2);
  assertGradientsFlow(new UNet3D({ numClasses: 2, ...NARROW }), x, crossEntropy(labels, 2));
  tf.dispose([x, labels]);
});

Deno.test("UNet3D (narrow) on 2D inputs learns a tiny thresholding task in 30 Adam steps with a flat tensor count", async () => {
  // 2D keeps the 30 steps cheap; the 3D path's gradients are checked above and against PyTorch in layers tests.
  const x = tf.randomNormal([1, 16, 16, 1], 0, 1, "float32", 2);
  const labels = tf.tidy(() => tf.squeeze(tf.greater(tf.slice(x, [0, 2, 2, 0], [1, 12, 12, 1]), 0), [3]));
  await assertTrains(new UNet3D({ numClasses: 2, ...NARROW }), x, crossEntropy(labels, 2));
  tf.dispose([x, labels]);
});
