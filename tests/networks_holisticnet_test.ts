import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { getNetwork, HolisticNet } from "../networks/mod.ts";
import { assertThrows } from "./_util.ts";
import { assertTrains, crossEntropy } from "./_network_checks.ts";
import { assertGradients, assertReferenceCounts } from "./_network_torch_checks.ts";

await useBackend("cpu");

const SMALL = { nFeatures: 8, nScoreFeatures: 12, nResBlocks: 1 } as const;

// Expected counts: tests/reference/networks_torch_counts.py, an independent PyTorch HolisticNet (70-feature trunk of
// 4 × 3 HighRes blocks with ELU, 4 score layers 70 → 140 (3³, bn, elu) → classes (1³, bn), channel-wise
// stride-2 deconvolutions with kernels 2 and 1 for the half-size scales, a bias-free 1×1 conv per class over the
// 4 scales' probabilities).
Deno.test("holisticnet 3D default: 4,241,853 trainable parameters (4,246,497 stored) like PyTorch; fused map", () => {
  const graph = assertReferenceCounts("holisticnet_3d", getNetwork("holisticnet").factory({ numClasses: 3 }));
  assertEquals(graph.outputShapes, [[1, 8, 8, 8, 3]]);
  const scopes = graph.root.children.filter((c) => c.kind === "scope").map((c) => c.name);
  assertEquals(scopes.filter((s) => !s.startsWith("res_")), [
    "conv_1_1_bn_elu",
    "ScoreLayer",
    "ScoreLayer_1",
    "avg_pooling",
    "ScoreLayer_2",
    "channelwise_deconv_upsample",
    "ScoreLayer_3",
    "channelwise_deconv_upsample_1",
    "MergeLayer",
  ]);
});

Deno.test("holisticnet 2D 10×12 (8 features, 1 block per scale): parameter count like PyTorch", () => {
  const graph = assertReferenceCounts("holisticnet_2d_small", new HolisticNet({ numClasses: 2, ...SMALL }));
  assertEquals(graph.outputShapes, [[1, 10, 12, 2]]);
});

Deno.test("holisticnet outputs 'all' stacks scores 1-4 and the fused map in training, the fused map in inference", () => {
  const net = new HolisticNet({ numClasses: 2, ...SMALL, outputs: "all" });
  const store = new VariableStore({ seed: 1 });
  const x = tf.randomNormal([1, 6, 8, 1], 0, 1, "float32", 31);
  const all = tf.tidy(() => applyNetwork(net, [x], { store, training: true }));
  const fused = tf.tidy(() => applyNetwork(net, [x], { store, training: false }));
  assertEquals([all.shape, fused.shape], [[1, 6, 8, 2, 5], [1, 6, 8, 2]]);
  // The deconv kernels start at 1: kernel 2 repeats each half-size score into a 2×2 block, kernel 1 fills only
  // even positions (the odd ones are 0), as NiftyNet's stride-2 transposed convolutions do.
  const score4 = tf.tidy(() => tf.squeeze(tf.slice(all, [0, 0, 0, 0, 3], [1, 6, 8, 1, 1])).arraySync() as number[][]);
  assertEquals(score4[1].every((v) => v === 0), true);
  assertEquals(score4[0].filter((_, i) => i % 2 === 1).every((v) => v === 0), true);
  tf.dispose([x, all, fused]);
  store.dispose();
});

Deno.test("holisticnet rejects odd spatial sizes and bad output modes before any tensor work", () => {
  assertThrows(() => new HolisticNet({ numClasses: 2, outputs: "x" as "all" }), 'outputs must be "fused" or "all"');
  const net = new HolisticNet({ numClasses: 2 });
  assertThrows(() => net.checkInput([1, 8, 7, 8, 1]), "must be even");
  const x = tf.zeros([1, 9, 8, 1]);
  const store = new VariableStore();
  const before = tf.memory().numTensors;
  assertThrows(() => applyNetwork(net, [x], { store }), "must be even");
  assertEquals([store.records().length, tf.memory().numTensors], [0, before]);
  x.dispose();
  store.dispose();
});

Deno.test("holisticnet (small, 2D): finite non-zero gradients for every trainable variable; 30 steps learn", async () => {
  const x = tf.randomNormal([1, 8, 8, 1], 0, 1, "float32", 33);
  const labels = tf.tidy(() => tf.squeeze(tf.greater(x, 0), [3]));
  const net = new HolisticNet({ numClasses: 2, ...SMALL });
  const store = new VariableStore({ seed: 34 });
  tf.tidy(() => void applyNetwork(net, [x], { store }));
  const peaks = assertGradients(
    store,
    () => crossEntropy(labels, 2)(applyNetwork(net, [x], { store, training: true })),
  );
  // conv_1_1 (3) + 4 HighRes blocks (6) + 4 score layers (2 × 3) + 2 × 2 deconv kernels + 2 merge convs
  assertEquals(peaks.size, 3 + 24 + 24 + 4 + 2);
  store.dispose();
  // The fused map is a weighted average of probabilities: used as logits it still separates the two classes.
  await assertTrains(net, x, crossEntropy(labels, 2), { learningRate: 0.02 });
  tf.dispose([x, labels]);
});
