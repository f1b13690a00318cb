import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { getNetwork, ResNet, SEResNet } from "../networks/mod.ts";
import { assertThrows } from "./_util.ts";
import { assertTrains, crossEntropy } from "./_network_checks.ts";
import { assertGradients, assertReferenceCounts } from "./_network_torch_checks.ts";

await useBackend("cpu");

// Expected counts: tests/reference/networks_torch_counts.py, an independent PyTorch pre-activation bottleneck ResNet with
// NiftyNet's layout (conv → DownResBlocks of bottlenecks, width/4 inner channels, strided 1×1 conv shortcut when
// the width changes, bn → relu → mean → fc) and, for SE-ResNet, a bias-free 16× squeeze-excitation per block.
Deno.test("resnet 3D default (16, 64, 128, 256; 10 blocks): 1,927,251 trainable parameters like PyTorch; [N, classes]", () => {
  const graph = assertReferenceCounts("resnet_3d", getNetwork("resnet").factory({ numClasses: 3 }));
  assertEquals(graph.outputShapes, [[1, 3]]);
});

Deno.test("resnet 2D (8, 16, 32; 2 blocks) on 2 channels: parameter count like PyTorch", () => {
  const graph = assertReferenceCounts(
    "resnet_2d_small",
    new ResNet({ numClasses: 3, nFeatures: [8, 16, 32], nBlocksPerResolution: 2 }),
  );
  assertEquals(graph.outputShapes, [[2, 3]]);
});

Deno.test("se_resnet 3D default (16, 64, 128; 1 block): 55,187 trainable parameters like PyTorch", () => {
  const graph = assertReferenceCounts("se_resnet_3d", getNetwork("se_resnet").factory({ numClasses: 3 }));
  assertEquals(graph.outputShapes, [[1, 3]]);
});

Deno.test("resnet scopes follow NiftyNet: downres[_i]/bottleneck[_j]/{batch_norm, conv, conv_bn_relu[_k], conv_1}", () => {
  const store = new VariableStore();
  tf.tidy(() =>
    void applyNetwork(new SEResNet({ numClasses: 2, nFeatures: [8, 16, 32], nBlocksPerResolution: 2 }), [
      tf.zeros([1, 8, 8, 1]),
    ], { store })
  );
  const paths: string[] = store.records().map((r) => r.path);
  for (
    const p of [
      "SE_ResNet/conv/conv_/w",
      "SE_ResNet/downres/bottleneck/batch_norm/gamma",
      "SE_ResNet/downres/bottleneck/conv/conv_/w",
      "SE_ResNet/downres/bottleneck/conv_bn_relu_1/bn_/beta",
      "SE_ResNet/downres/bottleneck/conv_1/conv_/w",
      "SE_ResNet/downres/bottleneck/channel_squeeze_excitation/se_fc_1_relu/fc_/w",
      "SE_ResNet/downres/bottleneck_1/conv_bn_relu_2/conv_/w",
      "SE_ResNet/downres_1/bottleneck/conv_1/conv_/w",
      "SE_ResNet/batch_norm/moving_mean",
      "SE_ResNet/fc/b",
    ]
  ) assertEquals(paths.includes(p), true, `missing ${p}`);
  // The pre-activation batch norm normalises the block input: 8 channels in the first bottleneck's conv_bn_relu.
  assertEquals(store.get("SE_ResNet/downres/bottleneck_1/conv_bn_relu/bn_/gamma")!.shape, [16]);
  assertEquals(store.get("SE_ResNet/downres_1/bottleneck/conv/conv_/w")!.shape, [1, 1, 16, 8]);
  store.dispose();
});

Deno.test("resnet and se_resnet reject bad widths at construction and 1D inputs before any tensor work", () => {
  assertThrows(() => new ResNet({ numClasses: 2, nFeatures: [8, 18] }), "divisible by 4");
  assertThrows(() => new SEResNet({ numClasses: 2, nFeatures: [8, 24] }), "divisible by 16");
  const x = tf.zeros([2, 8, 1]);
  const store = new VariableStore();
  assertThrows(() => applyNetwork(new ResNet({ numClasses: 2 }), [x], { store }), "expected a 2D");
  assertEquals(store.records().length, 0);
  x.dispose();
  store.dispose();
});

for (const [name, make] of [["resnet", ResNet], ["se_resnet", SEResNet]] as const) {
  // 32 and 64 channels: the SE bottleneck has 2 and 4 relu units (a single one can be dead at initialisation).
  Deno.test(`${name} (8, 32, 64; 1 block): finite non-zero gradients everywhere; 30 steps fit random labels`, async () => {
    const x = tf.randomNormal([4, 8, 8, 2], 0, 1, "float32", 7);
    const labels = tf.tensor1d([0, 1, 2, 1], "int32");
    const net = new make({ numClasses: 3, nFeatures: [8, 32, 64], nBlocksPerResolution: 1 });
    const store = new VariableStore({ seed: 8 });
    tf.tidy(() => void applyNetwork(net, [x], { store }));
    assertGradients(store, () => crossEntropy(labels, 3)(applyNetwork(net, [x], { store, training: true })));
    store.dispose();
    await assertTrains(net, x, crossEntropy(labels, 3), { learningRate: 0.01 });
    tf.dispose([x, labels]);
  });
}
