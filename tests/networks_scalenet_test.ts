import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { getNetwork, ScaleNet, ToyNet } from "../networks/mod.ts";
import { assertThrows } from "./_util.ts";
import { assertTrains, crossEntropy } from "./_network_checks.ts";
import { assertGradients, assertReferenceCounts } from "./_network_torch_checks.ts";

await useBackend("cpu");

// Expected counts: tests/reference/networks_torch_counts.py, an independent PyTorch ScaleNet (per-modality conv-bn-prelu
// to 16 features, 16 modality-mixing + M feature-mixing HighRes blocks with kernels 3 and 1, mean over modalities,
// then HighRes3DNet with NiftyNet's widths and channel-padded residuals).
Deno.test("scalenet 3D, 2 modalities: 833,574 trainable parameters (835,340 stored) like PyTorch; logits 8³", () => {
  const graph = assertReferenceCounts("scalenet_3d", getNetwork("scalenet").factory({ numClasses: 3 }));
  assertEquals(graph.outputShapes, [[1, 8, 8, 8, 3]]);
  const scopes = graph.root.children.filter((c) => c.kind === "scope").map((c) => c.name);
  assertEquals(scopes, ["conv_0_bn_prelu", "conv_1_bn_prelu", "scaleblock", "HighRes3DNet"]);
});

Deno.test("scalenet rejects 2D input, a single modality and (default front end) sizes not divisible by 8", () => {
  const net = new ScaleNet({ numClasses: 2 });
  assertThrows(() => net.checkInput([1, 8, 8, 2]), "expected a 3D");
  assertThrows(() => net.checkInput([1, 8, 8, 8, 1]), "at least 2 modalities");
  assertThrows(() => net.checkInput([1, 8, 12, 8, 2]), "divisible by 8");
  const x = tf.zeros([1, 8, 8, 8, 1]);
  const store = new VariableStore();
  const before = tf.memory().numTensors;
  assertThrows(() => applyNetwork(net, [x], { store }), "at least 2 modalities");
  assertEquals([store.records().length, tf.memory().numTensors], [0, before]);
  x.dispose();
  store.dispose();
});

Deno.test("scalenet (4 features, ToyNet front end, for speed): non-zero gradients everywhere; 30 steps learn", async () => {
  const x = tf.randomNormal([1, 4, 4, 4, 2], 0, 1, "float32", 11);
  const labels = tf.tidy(() => tf.greater(tf.sum(x, -1), 0));
  const net = new ScaleNet({ numClasses: 2, nFeatures: 4, frontEnd: new ToyNet({ numClasses: 2 }) });
  const store = new VariableStore({ seed: 12 });
  tf.tidy(() => void applyNetwork(net, [x], { store }));
  // 2 per-modality conv blocks (w, beta, gamma, alpha) + 4 M_F and 2 F_M HighRes blocks (2 × (beta, gamma, w))
  // + ToyNet (2 × w, beta, gamma).
  const peaks = assertGradients(
    store,
    () => crossEntropy(labels, 2)(applyNetwork(net, [x], { store, training: true })),
  );
  assertEquals(peaks.size, 2 * 4 + 6 * 6 + 6);
  store.dispose();
  await assertTrains(net, x, crossEntropy(labels, 2), { learningRate: 0.02 });
  tf.dispose([x, labels]);
});
