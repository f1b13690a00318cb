import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import {
  ChannelSELayer,
  ChannelSpatialSELayer,
  checkDilatable,
  DenseFeatureStackBlock,
  DilatedTensor,
  ElementwiseLayer,
  FCLayer,
  FullyConnectedLayer,
  ResidualUnit,
  SpatialSELayer,
} from "../layers/mod.ts";
import { assertClose, assertThrows, loadFixture } from "./_util.ts";

await useBackend("cpu");
type Case = Record<string, number[]>;
const F = loadFixture<Record<string, Case>>("layers_library");

function set(store: VariableStore, path: string, values: number[]): void {
  const r = store.get(path);
  if (!r) throw new Error(`no variable ${path}; have ${store.records().map((v) => v.path)}`);
  r.variable.assign(tf.tensor(values, r.shape as number[]));
}

Deno.test("ElementwiseLayer SUM zero-pads a narrower bypass (⌊diff/2⌋ first) and projects a wider one (proj/w)", () => {
  const c = F.elementwise;
  const flow = tf.tensor(c.flow, [2, 3, 3, 5]);
  const narrow = tf.tensor(c.narrow, [2, 3, 3, 2]), wide = tf.tensor(c.wide, [2, 3, 3, 7]);
  const store = new VariableStore();
  const pad = new ElementwiseLayer("SUM");
  assertEquals(pad.name, "residual_sum");
  const padded = tf.tidy(() => applyNetwork(pad, [flow, narrow], { store }));
  assertClose(padded, c.sum_pad, { what: "padded sum" });
  const projLayer = new ElementwiseLayer("SUM", { name: "skip" });
  tf.tidy(() => void applyNetwork(projLayer, [flow, wide], { store }));
  set(store, "skip_sum/proj/w", c.proj);
  const projected = tf.tidy(() => applyNetwork(projLayer, [flow, wide], { store }));
  assertClose(projected, c.sum_proj, { rtol: 1e-5, atol: 1e-5, what: "projected sum" });
  const cat = tf.tidy(() => applyNetwork(new ElementwiseLayer("CONCAT"), [flow, narrow], { store }));
  assertEquals(cat.shape, [2, 3, 3, 7]);
  assertThrows(
    () => applyNetwork(new ElementwiseLayer("SUM"), [flow, tf.zeros([2, 3, 4, 5])], { store }),
    "flows must agree in batch and spatial shape",
  );
  tf.dispose([flow, narrow, wide, padded, projected, cat]);
  store.dispose();
});

Deno.test("ResidualUnit 'original' and 'bn_acti_conv' (training-mode batch norm) match PyTorch; NiftyNet names", () => {
  const c = F.residual_unit;
  const x = tf.tensor(c.x, [2, 4, 4, 3, 3]);
  for (const type of ["original", "bn_acti_conv"] as const) {
    const unit = new ResidualUnit({ nOutputChannels: 3, typeString: type });
    const store = new VariableStore();
    tf.tidy(() => void applyNetwork(unit, [x], { store }));
    assertEquals(store.records().map((r) => r.path).filter((p) => p.endsWith("/w") || p.endsWith("gamma")).sort(), [
      "res-downsample/batch_norm/gamma",
      "res-downsample/batch_norm_1/gamma",
      "res-downsample/conv/conv_/w",
      "res-downsample/conv_1/conv_/w",
    ]);
    set(store, "res-downsample/conv/conv_/w", c.w0);
    set(store, "res-downsample/conv_1/conv_/w", c.w1);
    const y = tf.tidy(() => applyNetwork(unit, [x], { store, training: true }));
    assertClose(y, c[type], { rtol: 1e-4, atol: 1e-4, what: type });
    y.dispose();
    store.dispose();
  }
  x.dispose();
});

Deno.test("ChannelSELayer (avg, max), SpatialSELayer and ChannelSpatialSELayer match numpy with NiftyNet names", () => {
  const c = F.squeeze_excitation;
  const x = tf.tensor(c.x, [2, 3, 4, 2, 8]);
  const runSE = (layer: ChannelSELayer | SpatialSELayer | ChannelSpatialSELayer, prefix: string) => {
    const store = new VariableStore();
    tf.tidy(() => void applyNetwork(layer, [x], { store }));
    for (const r of store.records()) {
      const p = r.path.slice(prefix.length);
      set(store, r.path, p.includes("se_fc_1") ? c.fc1 : p.includes("se_fc_2") ? c.fc2 : c.sconv);
    }
    const paths = store.records().map((r) => r.path);
    const y = tf.tidy(() => applyNetwork(layer, [x], { store }));
    store.dispose();
    return { y, paths };
  };
  const cse = runSE(new ChannelSELayer({ reductionRatio: 4 }), "");
  assertEquals(cse.paths, [
    "channel_squeeze_excitation/se_fc_1_relu/fc_/w",
    "channel_squeeze_excitation/se_fc_2_sigmoid/fc_/w",
  ]);
  assertClose(cse.y, c.channel, { rtol: 1e-5, atol: 1e-6, what: "channel SE" });
  const cmax = runSE(new ChannelSELayer({ func: "MAX", reductionRatio: 4 }), "");
  assertClose(cmax.y, c.channel_max, { rtol: 1e-5, atol: 1e-6, what: "channel SE (max)" });
  const sse = runSE(new SpatialSELayer(), "");
  assertEquals(sse.paths, ["spatial_squeeze_excitation/se_conv_sigmoid/conv_/w"]);
  assertClose(sse.y, c.spatial, { rtol: 1e-5, atol: 1e-6, what: "spatial SE" });
  const both = runSE(new ChannelSpatialSELayer({ reductionRatio: 4 }), "");
  assertEquals(both.paths, [
    "channel_spatial_squeeze_excitation/cSE/se_fc_1_relu/fc_/w",
    "channel_spatial_squeeze_excitation/cSE/se_fc_2_sigmoid/fc_/w",
    "channel_spatial_squeeze_excitation/sSE/se_conv_sigmoid/conv_/w",
  ]);
  assertClose(both.y, c.both, { rtol: 1e-5, atol: 1e-6, what: "channel + spatial SE" });
  assertThrows(
    () => applyNetwork(new ChannelSELayer({ reductionRatio: 3 }), [x], { store: new VariableStore() }),
    "reduction ratio 3 does not divide 8 channels",
  );
  tf.dispose([x, cse.y, cmax.y, sse.y, both.y]);
});

Deno.test("FCLayer flattens, FullyConnectedLayer names fc_bn_relu/{fc_/w, fc_/b, bn_/…}; [2,3,4] → [2,5]", () => {
  const store = new VariableStore();
  const x = tf.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 4]);
  const fc = new FCLayer(2, { wInitializer: "ones", bInitializer: { type: "constant", value: 0.5 } });
  const y = tf.tidy(() => applyNetwork(fc, [x], { store }));
  assertEquals(Array.from(y.dataSync()), [78.5, 78.5, 78.5, 78.5]);
  const block = new FullyConnectedLayer(5, { actiFunc: "relu" });
  const z = tf.tidy(() => applyNetwork(block, [x], { store, training: true }));
  assertEquals(z.shape, [2, 5]);
  assertEquals(store.records().map((r) => r.path).slice(2, 5), [
    "fc_bn_relu/fc_/w",
    "fc_bn_relu/fc_/b",
    "fc_bn_relu/bn_/beta",
  ]);
  tf.dispose([x, y, z]);
  store.dispose();
});

Deno.test("DenseFeatureStackBlock returns [input, f1, f2, f3], each conv reading the concatenated stack so far", () => {
  const store = new VariableStore();
  const block = new DenseFeatureStackBlock(4, { kernelSize: 3, dilationRates: [1, 2, 4] }, { actiFunc: "relu" });
  const stack = tf.tidy(() => applyNetwork(block, [tf.ones([1, 8, 8, 8, 2])], { store }));
  assertEquals(stack.map((t) => t.shape[4]), [2, 4, 4, 4]);
  assertEquals(
    store.records().filter((r) => r.path.endsWith("/w")).map((r) => [r.path, r.shape]),
    [
      ["dense_feature_stack_block/conv_bn_relu/conv_/w", [3, 3, 3, 2, 4]],
      ["dense_feature_stack_block/conv_bn_relu_1/conv_/w", [3, 3, 3, 6, 4]],
      ["dense_feature_stack_block/conv_bn_relu_2/conv_/w", [3, 3, 3, 10, 4]],
    ],
  );
  tf.dispose(stack);
  store.dispose();
});

Deno.test("DilatedTensor keeps NiftyNet's precondition: spatial sizes divisible by the dilation factor", () => {
  const x = tf.zeros([1, 8, 12, 4, 1]);
  assertEquals(new DilatedTensor(x, 4).dilationFactor, 4);
  assertThrows(() => new DilatedTensor(x, 3), "spatial size [8,12,4] must be divisible by the dilation factor 3");
  assertThrows(() => checkDilatable([1, 8, 1], 0), "dilation factor must be a positive integer");
  x.dispose();
});
