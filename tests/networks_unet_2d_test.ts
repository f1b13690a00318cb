import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { getNetwork, UNet2D, unet2dOutputSize } from "../networks/mod.ts";
import { assertThrows } from "./_util.ts";
import { assertGradientsFlow, assertMatchesSpec, assertTrains, crossEntropy, SPECS } from "./_network_checks.ts";

await useBackend("cpu");

const NARROW = { nFeatures: [2, 2, 2, 2, 2] as [number, number, number, number, number] };

// Expected variables and counts: tests/reference/networks_specs.py, written from NiftyNet's unet_2d.py.
Deno.test(`unet_2d variables and parameter count (${SPECS.unet_2d.trainable}) match NiftyNet's`, () => {
  assertMatchesSpec(getNetwork("unet_2d").factory({ numClasses: 2 }), [1, 173, 173, 1], SPECS.unet_2d);
});

Deno.test("unet_2d size rule: 572² → 388² as in the paper, 173² is the smallest input (→ 4²), 172² fails", () => {
  assertEquals(unet2dOutputSize([572, 572]), { size: [388, 388] });
  assertEquals(unet2dOutputSize([173, 180]), { size: [4, 4] });
  assertEquals("error" in unet2dOutputSize([172, 172]), true);
});

Deno.test("UNet2D output shape [2,173,189,3] → [2,4,20,2] and rejects 3D or too small inputs before tensor work", () => {
  const net = new UNet2D({ numClasses: 2, ...NARROW });
  const store = new VariableStore();
  const y = tf.tidy(() => applyNetwork(net, [tf.ones([2, 173, 189, 3])], { store }));
  assertEquals(y.shape, [2, 4, 20, 2]);
  y.dispose();
  store.dispose();
  assertThrows(() => net.checkInput([1, 180, 180, 180, 1]), "expected a 2D [batch, x, y, channels] input");
  assertThrows(() => net.checkInput([1, 172, 172, 1]), "is too small or unbalanced");
});

function task(seed: number) {
  const x = tf.randomNormal([1, 173, 173, 1], 0, 1, "float32", seed);
  const labels = tf.tidy(() => tf.squeeze(tf.greater(tf.slice(x, [0, 84, 84, 0], [1, 4, 4, 1]), 0), [3]));
  return { x, labels };
}

Deno.test("UNet2D (narrow): one training step gives finite non-zero gradients for every trainable variable", () => {
  const { x, labels } = task(1);
  assertGradientsFlow(new UNet2D({ numClasses: 2, ...NARROW }), x, crossEntropy(labels, 2));
  tf.dispose([x, labels]);
});

Deno.test("UNet2D (narrow) learns a tiny thresholding task in 30 Adam steps with a flat tensor count", async () => {
  const { x, labels } = task(2);
  await assertTrains(new UNet2D({ numClasses: 2, ...NARROW }), x, crossEntropy(labels, 2));
  tf.dispose([x, labels]);
});
