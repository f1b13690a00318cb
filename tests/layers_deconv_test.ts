import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { DeconvLayer, DeconvolutionalLayer, deconvOutputSize } from "../layers/mod.ts";
import { assertClose, loadFixture } from "./_util.ts";

await useBackend("cpu");
type Case = Record<string, number[]>;
const F = loadFixture<Record<string, Case>>("layers_library");

const CASES = [
  { key: "deconv3d_same_k3s2", spatial: [3, 4, 2], k: 3, padding: "same" as const, bias: false },
  { key: "deconv3d_valid_k3s2", spatial: [2, 3, 2], k: 3, padding: "valid" as const, bias: true },
  { key: "deconv2d_valid_k2s2", spatial: [3, 4], k: 2, padding: "valid" as const, bias: true },
];

for (const { key, spatial, k, padding, bias } of CASES) {
  Deno.test(`DeconvLayer ${key}: output, dL/dx and dL/dw match PyTorch (TensorFlow conv_transpose semantics)`, () => {
    const c = F[key];
    const dims = spatial.length;
    const layer = new DeconvLayer(2, { kernelSize: k, stride: 2, padding, withBias: bias, name: "deconv" });
    const store = new VariableStore();
    const x = tf.tensor(c.x, [2, ...spatial, 3]);
    tf.tidy(() => void applyNetwork(layer, [x], { store }));
    const w = store.get("deconv/w")!;
    assertEquals(w.shape, [...Array(dims).fill(k), 2, 3]);
    w.variable.assign(tf.tensor(c.w, w.shape as number[]));
    if (bias) store.get("deconv/b")!.variable.assign(tf.tensor(c.b));
    const r = tf.tensor(c.r, c.out_shape);
    const f = () => tf.sum(tf.mul(applyNetwork(layer, [x], { store, training: true }), r)) as tf.Scalar;
    const out = tf.tidy(() => applyNetwork(layer, [x], { store }));
    assertEquals(out.shape, c.out_shape);
    assertEquals(
      deconvOutputSize(spatial, Array(dims).fill(k), Array(dims).fill(2), padding),
      c.out_shape.slice(1, -1),
    );
    const { grads } = tf.variableGrads(f, [w.variable]);
    const gx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(applyNetwork(layer, [input], { store }), r)))(x);
    assertClose(out, c.out, { rtol: 1e-5, atol: 1e-5, what: "output" });
    assertClose(gx, c.grad_x, { rtol: 1e-4, atol: 1e-4, what: "dL/dx" });
    assertClose(grads[w.variable.name], c.grad_w, { rtol: 1e-4, atol: 1e-4, what: "dL/dw" });
    tf.dispose([x, r, out, gx, ...Object.values(grads)]);
    store.dispose();
  });
}

Deno.test("DeconvolutionalLayer (k2, s2) is scope up_2x2_bn with deconv_/w and bn_/… and doubles the size", () => {
  const store = new VariableStore();
  const y = tf.tidy(() =>
    applyNetwork(
      new DeconvolutionalLayer(4, { kernelSize: 2, stride: 2, name: "up_2x2" }),
      [tf.ones([1, 3, 3, 3, 2])],
      {
        store,
      },
    )
  );
  assertEquals(y.shape, [1, 6, 6, 6, 4]);
  assertEquals(store.records().map((r) => r.path), [
    "up_2x2_bn/deconv_/w",
    "up_2x2_bn/bn_/beta",
    "up_2x2_bn/bn_/gamma",
    "up_2x2_bn/bn_/moving_mean",
    "up_2x2_bn/bn_/moving_variance",
  ]);
  y.dispose();
  store.dispose();
});

Deno.test("DeconvLayer default kernel is NiftyNet's truncated N(0, σ = √(2/(∏k·in))) cut at 2σ", () => {
  const store = new VariableStore({ seed: 3 });
  tf.tidy(() =>
    void applyNetwork(new DeconvLayer(8, { kernelSize: 3, stride: 2 }), [tf.ones([1, 2, 2, 2, 16])], { store })
  );
  const w = store.get("deconv/w")!;
  assertEquals(w.shape, [3, 3, 3, 8, 16]);
  const values = Array.from(w.variable.dataSync());
  const sigma = Math.sqrt(2 / (27 * 16));
  const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
  // A normal truncated at ±2σ keeps 0.8796σ of spread; 3456 samples pin it to a few percent.
  assertEquals(values.every((v) => Math.abs(v) <= 2 * sigma + 1e-7), true);
  assertEquals(Math.abs(std / (0.8796 * sigma) - 1) < 0.05, true, `std ${std} vs ${0.8796 * sigma}`);
  store.dispose();
});
