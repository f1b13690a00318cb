import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { DeepMedic, getNetwork } from "../networks/mod.ts";
import { assertThrows } from "./_util.ts";
import { assertTrains, crossEntropy } from "./_network_checks.ts";
import { assertGradients, assertReferenceCounts } from "./_network_torch_checks.ts";

await useBackend("cpu");

// Expected counts: tests/reference/networks_torch_counts.py, an independent PyTorch DeepMedic (NiftyNet's widths:
// 8 valid 3×3×3 convs of 30…50 per pathway, 1×1×1 convs 150, 150, classes; conv → bn → PReLU, no bias).
Deno.test("deepmedic 3D 51³: 658,152 trainable parameters (660,040 with moving statistics) like PyTorch; output 3³", () => {
  const graph = assertReferenceCounts("deepmedic_3d", getNetwork("deepmedic").factory({ numClasses: 4 }));
  assertEquals(graph.outputShapes, [[1, 3, 3, 3, 4]]); // 51 − 16·3 = 3
  const names = graph.root.children.filter((c) => c.kind === "scope").map((c) => c.name);
  assertEquals(names.slice(0, 4), [
    "cropping_input",
    "constant_downsample_input",
    "normal_conv_bn_prelu",
    "downsample_conv_bn_prelu",
  ]);
  assertEquals(names.slice(-4), [
    "replicate_upsample",
    "conv_1x1x1_150_bn_prelu",
    "conv_1x1x1_150_bn_prelu_1",
    "conv_1x1x1_4_bn_prelu",
  ]);
});

Deno.test("deepmedic 2D 57² with 2 channels: parameter count like PyTorch; output (57 − 48)² = 9²", () => {
  const graph = assertReferenceCounts("deepmedic_2d", new DeepMedic({ numClasses: 4 }));
  assertEquals(graph.outputShapes, [[1, 9, 9, 4]]);
});

Deno.test("deepmedic with dFactor 5 takes odd sizes divisible by 5 above 80 and outputs n − 80 per axis", () => {
  const net = new DeepMedic({ numClasses: 2, dFactor: 5 });
  const store = new VariableStore();
  const y = tf.tidy(() => applyNetwork(net, [tf.zeros([1, 85, 95, 1])], { store }));
  assertEquals(y.shape, [1, 5, 15, 2]); // n − 16·5
  tf.dispose(y);
  store.dispose();
});

Deno.test("deepmedic rejects even dFactor, and even / non-divisible / too small sizes before any tensor work", () => {
  assertThrows(() => new DeepMedic({ numClasses: 2, dFactor: 2 }), "dFactor must be an odd positive integer");
  const net = new DeepMedic({ numClasses: 2 });
  assertThrows(() => net.checkInput([1, 54, 57, 57, 1]), "got 54");
  assertThrows(() => net.checkInput([1, 55, 57, 57, 1]), "divisible by dFactor 3");
  assertThrows(() => net.checkInput([1, 45, 57, 57, 1]), "larger than 48");
  assertThrows(() => net.checkInput([1, 57, 1]), "expected a 2D");
  const x = tf.zeros([1, 45, 45, 1]);
  const store = new VariableStore();
  const before = tf.memory().numTensors;
  assertThrows(() => applyNetwork(net, [x], { store }), "got 45");
  assertEquals(store.records().length, 0);
  assertEquals(tf.memory().numTensors, before);
  x.dispose();
  store.dispose();
});

Deno.test("deepmedic: one step gives finite non-zero gradients for all 76 trainable variables", () => {
  // 57²: the downsampled pathway ends at 3² (at 51² it would end at 1², where batch norm zeroes everything).
  const x = tf.randomNormal([1, 57, 57, 1], 0, 1, "float32", 3);
  // The label of an output pixel is the sign of the input there (output = centre 9² of the 57² input).
  const labels = tf.tidy(() => tf.squeeze(tf.greater(tf.slice(x, [0, 24, 24, 0], [1, 9, 9, 1]), 0), [3]));
  const net = new DeepMedic({ numClasses: 2 });
  const store = new VariableStore({ seed: 4 });
  tf.tidy(() => void applyNetwork(net, [x], { store }));
  const peaks = assertGradients(
    store,
    () => crossEntropy(labels, 2)(applyNetwork(net, [x], { store, training: true })),
  );
  assertEquals(peaks.size, 76); // 19 conv blocks × (conv_/w, bn_/beta, bn_/gamma, prelu_acti_/alpha)
  store.dispose();
  tf.dispose([x, labels]);
});

Deno.test("deepmedic (4-feature pathways for speed) learns a thresholding task in 30 Adam steps, tensor count flat", async () => {
  const x = tf.randomNormal([1, 57, 57, 1], 0, 1, "float32", 5);
  const labels = tf.tidy(() => tf.squeeze(tf.greater(tf.slice(x, [0, 24, 24, 0], [1, 9, 9, 1]), 0), [3]));
  const net = new DeepMedic({ numClasses: 2, convFeatures: Array(8).fill(4), fcFeatures: [8, 8] });
  const { first, last } = await assertTrains(net, x, crossEntropy(labels, 2), { learningRate: 0.02 });
  assert(last < first);
  tf.dispose([x, labels]);
});
