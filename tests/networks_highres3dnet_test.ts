import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { getNetwork, HighRes3DNet } from "../networks/mod.ts";
import { assertThrows } from "./_util.ts";
import { assertGradientsFlow, assertMatchesSpec, assertTrains, crossEntropy, SPECS } from "./_network_checks.ts";

await useBackend("cpu");

// Expected variables and counts: tests/reference/networks_specs.py, written from NiftyNet's highres3dnet*.py.
// HighRes3DNet: 809,750 trainable parameters (the paper's "0.81M"), 811,196 with the moving statistics.
for (const variant of ["base", "small", "large"] as const) {
  const key = variant === "base" ? "highres3dnet" : `highres3dnet_${variant}`;
  Deno.test(`${key} variables (paths, shapes) and parameter count (${SPECS[key].trainable}) match NiftyNet's`, () => {
    assertMatchesSpec(getNetwork(key).factory({ numClasses: 3 }), [1, 8, 8, 8, 1], SPECS[key]);
  });
}

Deno.test("HighRes3DNet variants keep the input size (small: stride-2 conv then stride-2 transposed conv)", () => {
  for (const variant of ["base", "small", "large"] as const) {
    const store = new VariableStore();
    const y = tf.tidy(() =>
      applyNetwork(new HighRes3DNet({ numClasses: 4, variant }), [tf.ones([2, 8, 16, 8, 2])], { store })
    );
    assertEquals(y.shape, [2, 8, 16, 8, 4]);
    y.dispose();
    store.dispose();
  }
});

Deno.test("HighRes3DNet rejects 2D inputs and spatial sizes not divisible by 8 before any tensor work", () => {
  const net = new HighRes3DNet({ numClasses: 2 });
  assertThrows(() => net.checkInput([1, 16, 16, 1]), "expected a 3D [batch, x, y, z, channels] input");
  assertThrows(() => net.checkInput([1, 16, 12, 16, 1]), "divisible by 8");
  const store = new VariableStore();
  const before = tf.memory().numTensors;
  const x = tf.zeros([1, 8, 8, 4, 1]);
  assertThrows(() => applyNetwork(net, [x], { store }), "got [8,8,4]");
  x.dispose();
  assertEquals(store.records().length, 0);
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("HighRes3DNet (narrow): one training step gives finite non-zero gradients for every trainable variable", () => {
  const x = tf.randomNormal([1, 8, 8, 8, 1], 0, 1, "float32", 1);
  const labels = tf.tidy(() => tf.squeeze(tf.greater(x, 0), [4]));
  assertGradientsFlow(new HighRes3DNet({ numClasses: 2, nFeatures: [2, 3, 4, 4] }), x, crossEntropy(labels, 2));
  tf.dispose([x, labels]);
});

Deno.test("highres3dnet_small (narrow) learns a tiny thresholding task in 30 Adam steps with a flat tensor count", async () => {
  const x = tf.randomNormal([1, 8, 8, 8, 1], 0, 1, "float32", 2);
  const labels = tf.tidy(() => tf.squeeze(tf.greater(x, 0), [4]));
  await assertTrains(
    new HighRes3DNet({ numClasses: 2, variant: "small", nFeatures: [2, 3, 4, 4] }),
    x,
    crossEntropy(labels, 2),
  );
  tf.dispose([x, labels]);
});
