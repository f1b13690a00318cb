import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, type Layer, VariableStore } from "../src/dsl/mod.ts";
import {
  AdditiveUpsampleLayer,
  CropLayer,
  DownSampleLayer,
  LinearResizeLayer,
  ResidualUpsampleLayer,
  UpSampleLayer,
} from "../layers/mod.ts";
import { assertClose, assertThrows, finiteDifference, loadFixture } from "./_util.ts";

await useBackend("cpu");
type Case = Record<string, number[]>;
const F = loadFixture<Record<string, Case>>("layers_library");

/** Applies a layer in a fresh store; returns output and the store's variable paths. */
function apply(layer: Layer, x: tf.Tensor): { y: tf.Tensor; paths: string[]; store: VariableStore } {
  const store = new VariableStore();
  const y = tf.tidy(() => applyNetwork(layer, [x], { store }));
  return { y, paths: store.records().map((r) => r.path), store };
}

Deno.test("DownSampleLayer max/avg (TF 'same', padding excluded from averages), valid max and CONSTANT match numpy", () => {
  const c = F.downsample;
  const x = tf.tensor(c.x, [2, 5, 4, 3, 2]);
  const cases: [DownSampleLayer, string, number[]][] = [
    [new DownSampleLayer("MAX"), "max_same_k3s2", [2, 3, 2, 2, 2]],
    [new DownSampleLayer("AVG"), "avg_same_k3s2", [2, 3, 2, 2, 2]],
    [new DownSampleLayer("MAX", { kernelSize: 2, stride: 2, padding: "valid" }), "max_valid_k2s2", [2, 2, 2, 1, 2]],
    [new DownSampleLayer("CONSTANT"), "constant_same_k3s2", [2, 3, 2, 2, 2]],
  ];
  for (const [layer, key, shape] of cases) {
    const { y, store } = apply(layer, x);
    assertEquals(y.shape, shape, key);
    assertClose(y, c[key], { rtol: 1e-6, atol: 1e-6, what: key });
    y.dispose();
    store.dispose();
  }
  assertEquals(new DownSampleLayer("max", { name: "down_2x2" }).name, "max_down_2x2");
  const conv = apply(new DownSampleLayer("CONV", { kernelSize: 2, stride: 2, nOutputChannels: 3 }), x);
  assertEquals(conv.y.shape, [2, 3, 2, 2, 3]);
  assertEquals(conv.paths, ["conv_pooling/conv/w"]);
  conv.y.dispose();
  conv.store.dispose();
  assertThrows(() => new DownSampleLayer("MIN" as "MAX"), 'unknown downsampling "MIN"');
  x.dispose();
});

Deno.test("LinearResizeLayer 3D (via resize3d) and 2D match TF1 resize_bilinear sampling computed in numpy", () => {
  const c = F.linear_resize;
  const x = tf.tensor(c.x, [1, 3, 4, 2, 4]);
  const r3 = apply(new LinearResizeLayer(c.size), x);
  assertEquals(r3.y.shape, [1, 5, 7, 3, 4]);
  assertClose(r3.y, c.out, { rtol: 1e-5, atol: 1e-6, what: "3D" });
  const x2 = tf.tensor(c.x2d, [2, 3, 5, 2]);
  const r2 = apply(new LinearResizeLayer(c.size2d), x2);
  assertClose(r2.y, c.out2d, { rtol: 1e-5, atol: 1e-6, what: "2D" });
  const add = apply(new AdditiveUpsampleLayer(c.size, 2), x);
  assertEquals(add.y.shape, [1, 5, 7, 3, 2]);
  assertClose(add.y, c.additive_2splits, { rtol: 1e-5, atol: 1e-6, what: "additive upsampling" });
  assertThrows(() => apply(new AdditiveUpsampleLayer(4, 3), x), "4 input channels cannot be split into 3");
  tf.dispose([x, x2, r3.y, r2.y, add.y]);
});

Deno.test("UpSampleLayer: REPLICATE = nearest blocks, LINEAR/NEAREST sizes, CHANNELWISE_DECONV has one kernel per channel", () => {
  const x = tf.tensor([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2, 1]);
  const rep = apply(new UpSampleLayer("REPLICATE", { kernelSize: 2, stride: 2 }), x);
  assertEquals(rep.y.shape, [1, 4, 4, 4, 1]);
  const v = rep.y.arraySync() as number[][][][][];
  assertEquals([v[0][0][0][0][0], v[0][1][1][1][0], v[0][2][3][0][0], v[0][3][3][3][0]], [1, 1, 7, 8]);
  assertThrows(() => apply(new UpSampleLayer("REPLICATE", { kernelSize: 3, stride: 2 }), x), "kernel size = stride");
  const cw = apply(new UpSampleLayer("CHANNELWISE_DECONV", { stride: 2 }), tf.ones([1, 2, 2, 2, 3]));
  assertEquals(cw.y.shape, [1, 4, 4, 4, 3]);
  assertEquals(cw.paths, [
    "channelwise_deconv_upsample/deconv_0/w",
    "channelwise_deconv_upsample/deconv_1/w",
    "channelwise_deconv_upsample/deconv_2/w",
  ]);
  assertEquals(cw.store.get(cw.paths[0])!.shape, [3, 3, 3, 1, 1]);
  const lin = apply(new UpSampleLayer("LINEAR", { stride: [2, 3] }), tf.ones([1, 2, 2, 1]));
  assertEquals(lin.y.shape, [1, 4, 6, 1]);
  const dec = apply(new UpSampleLayer("DECONV", { stride: 2, kernelSize: 2, nOutputChannels: 5 }), x);
  assertEquals([dec.y.shape, dec.paths], [[1, 4, 4, 4, 5], ["deconv_upsample/deconv/w"]]);
  tf.dispose([x, rep.y, cw.y, lin.y, dec.y]);
});

Deno.test("ResidualUpsampleLayer: deconv (C/2 channels, bn, relu) + additive upsampling, NiftyNet names, weights shared across sizes", () => {
  const { y, paths, store } = apply(new ResidualUpsampleLayer({ nSplits: 2 }), tf.ones([1, 2, 2, 2, 4]));
  assertEquals(y.shape, [1, 4, 4, 4, 2]);
  assertEquals(paths.filter((p) => p.endsWith("/w")), ["residual_additive_upsample/deconv_bn_relu/deconv_/w"]);
  assertEquals(store.get(paths[0])!.shape, [3, 3, 3, 2, 4]);
  // Applied again to another size, the same layer reuses its variables.
  const layer = new ResidualUpsampleLayer({ nSplits: 2 });
  const shared = new VariableStore();
  const sizes = [[1, 2, 2, 2, 4], [1, 3, 2, 4, 4]].map((s) =>
    tf.tidy(() => applyNetwork(layer, [tf.ones(s)], { store: shared }).shape)
  );
  assertEquals(sizes, [[1, 4, 4, 4, 2], [1, 6, 4, 8, 2]]);
  assertEquals(shared.records().length, 5);
  shared.dispose();
  y.dispose();
  store.dispose();
});

Deno.test("CropLayer removes the border on every spatial axis and rejects borders that leave nothing", () => {
  const x = tf.range(0, 6 * 7 * 2).reshape([1, 6, 7, 2]);
  const { y } = apply(new CropLayer(2), x);
  assertEquals(y.shape, [1, 2, 3, 2]);
  assertEquals(Array.from(y.dataSync()).slice(0, 2), [2 * 14 + 4, 2 * 14 + 5]);
  assertThrows(() => apply(new CropLayer(3), x), "cannot crop 3 voxels from each side of spatial size [6,7]");
  tf.dispose([x, y]);
});

Deno.test("LinearResizeLayer input gradients (2D non-square, 3D) agree with finite differences", () => {
  for (const [shape, size] of [[[1, 3, 5, 2], [7, 4]], [[1, 3, 2, 4, 1], [5, 3, 6]]] as const) {
    const layer = new LinearResizeLayer(size);
    const store = new VariableStore();
    const x = tf.randomNormal([...shape], 0, 1, "float32", 4);
    const outShape = [shape[0], ...size, shape[shape.length - 1]];
    const r = tf.randomNormal(outShape, 0, 1, "float32", 5);
    const f = (input: tf.Tensor) => tf.sum(tf.mul(applyNetwork(layer, [input], { store }), r)) as tf.Scalar;
    const g = tf.grad(f)(x);
    const indices = [0, 3, 7, 11];
    const fd = finiteDifference(f, x, { indices });
    assertClose(indices.map((i) => g.dataSync()[i]), fd, { rtol: 1e-2, atol: 1e-3, what: `dL/dx ${shape}` });
    tf.dispose([x, r, g]);
    store.dispose();
  }
});
