import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { DenseVNet, getNetwork } from "../networks/mod.ts";
import { assertThrows } from "./_util.ts";
import { assertTrains, crossEntropy } from "./_network_checks.ts";
import { assertGradients, assertReferenceCounts } from "./_network_torch_checks.ts";

await useBackend("cpu");

const SMALL = {
  nDenseChannels: [2, 4],
  nSegChannels: [4, 4],
  nInputChannels: [4, 4],
  nDenseLayers: [2, 2],
} as const;

// Expected counts: tests/reference/networks_torch_counts.py, an independent PyTorch Dense V-Net with NiftyNet's
// hyper-parameters (dense channels 4/8/16 × 5/10/10 layers, skip channels 12/24/24, input channels 24, 5³ stride-2
// initial conv, 3³ final conv with bias) and, with the prior, one 12³ map per class.
Deno.test("dense_vnet 3D default: 868,626 trainable parameters (869,412 stored) like PyTorch; logits at input size", () => {
  const graph = assertReferenceCounts("dense_vnet_3d", getNetwork("dense_vnet").factory({ numClasses: 3 }));
  assertEquals(graph.outputShapes, [[1, 16, 16, 16, 3]]);
});

Deno.test("dense_vnet with prior adds one learned 12³ map per class (3 × 1,728 parameters)", () => {
  const graph = assertReferenceCounts("dense_vnet_3d_prior", new DenseVNet({ numClasses: 3, usePrior: true }));
  assertEquals(graph.outputShapes, [[1, 16, 16, 16, 3]]);
});

Deno.test("dense_vnet 2D 16×24: parameter count like PyTorch; logits at input size", () => {
  const graph = assertReferenceCounts("dense_vnet_2d", new DenseVNet({ numClasses: 2 }));
  assertEquals(graph.outputShapes, [[1, 16, 24, 2]]);
});

Deno.test("dense_vnet names: batch_norm, conv_bn, dense_feature_stack_block[_i]/dense_feature_stack_block/conv_bn_relu[_j]", () => {
  const store = new VariableStore();
  tf.tidy(() =>
    void applyNetwork(new DenseVNet({ numClasses: 2, ...SMALL, usePrior: true }), [tf.zeros([1, 8, 8, 1])], { store })
  );
  const paths: string[] = store.records().map((r) => r.path);
  for (
    const p of [
      "DenseVNet/batch_norm/moving_variance",
      "DenseVNet/conv_bn/conv_/w",
      "DenseVNet/dense_feature_stack_block/dense_feature_stack_block/conv_bn_relu_1/conv_/w",
      "DenseVNet/dense_feature_stack_block/conv_bn_relu/conv_/w",
      "DenseVNet/dense_feature_stack_block/conv_bn_relu_1/conv_/w",
      "DenseVNet/dense_feature_stack_block_1/conv_bn_relu/bn_/gamma",
      "DenseVNet/conv/conv_/b",
      "DenseVNet/spatial_prior_block/prior",
    ]
  ) assertEquals(paths.includes(p), true, `missing ${p}`);
  // the last block has no downsampling conv
  assertEquals(paths.includes("DenseVNet/dense_feature_stack_block_1/conv_bn_relu_1/conv_/w"), false);
  assertEquals(store.get("DenseVNet/spatial_prior_block/prior")!.shape, [12, 12, 2]);
  store.dispose();
});

Deno.test("dense_vnet rejects sizes not divisible by 2^blocks and 1D input before any tensor work", () => {
  const net = new DenseVNet({ numClasses: 2 });
  assertThrows(() => net.checkInput([1, 16, 12, 16, 1]), "divisible by 8");
  assertThrows(() => net.checkInput([1, 16, 1]), "expected a 2D");
  assertThrows(() => new DenseVNet({ numClasses: 2, nSegChannels: [1] }), "one equal, non-zero length");
  const x = tf.zeros([1, 12, 12, 1]);
  const store = new VariableStore();
  const before = tf.memory().numTensors;
  assertThrows(() => applyNetwork(net, [x], { store }), "divisible by 8");
  assertEquals([store.records().length, tf.memory().numTensors], [0, before]);
  x.dispose();
  store.dispose();
});

Deno.test("dense_vnet (small, 3D, prior, dropout on): finite non-zero gradients for every trainable variable", () => {
  const x = tf.randomNormal([1, 8, 8, 8, 1], 0, 1, "float32", 21);
  const labels = tf.tidy(() => tf.squeeze(tf.greater(x, 0), [4]));
  const net = new DenseVNet({ numClasses: 2, ...SMALL, usePrior: true, priorSize: 4 });
  const store = new VariableStore({ seed: 22 });
  tf.tidy(() => void applyNetwork(net, [x], { store }));
  const peaks = assertGradients(
    store,
    () => crossEntropy(labels, 2)(applyNetwork(net, [x], { store, training: true })),
  );
  // batch_norm (2) + conv_bn (3) + block 1: 2 stack convs + skip + down (4 × 3) + block 2: 2 + skip (3 × 3)
  // + final conv (w, b) + prior.
  assertEquals(peaks.size, 2 + 3 + 12 + 9 + 2 + 1);
  store.dispose();
  tf.dispose([x, labels]);
});

Deno.test("dense_vnet (small, 2D, no dropout) learns a thresholding task in 30 Adam steps, tensor count flat", async () => {
  const x = tf.randomNormal([1, 16, 16, 1], 0, 1, "float32", 23);
  const labels = tf.tidy(() => tf.squeeze(tf.greater(x, 0), [3]));
  const net = new DenseVNet({ numClasses: 2, ...SMALL, pChannelsSelected: 1 });
  await assertTrains(net, x, crossEntropy(labels, 2), { learningRate: 0.02 });
  tf.dispose([x, labels]);
});
