/**
 * compileInference (batch norm folded, bias + residual + activation fused into oneDNN convolutions, planned buffers)
 * gives what applying the network op by op gives: HighRes3DNet with zero-padded residuals, batches of windows,
 * repeated runs on reused buffers, tfjs's stock kernels; networks it does not cover say why; no tensors leak.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import "../src/kernels/mod.ts";
import { applyNetwork, FunctionLayer, type Layer, type Scope, VariableStore } from "../src/dsl/mod.ts";
import { ConvLayer, ConvolutionalLayer } from "../layers/mod.ts";
import { resize3d } from "../src/kernels/mod.ts";
import { HighRes3DNet } from "../networks/mod.ts";
import { compileInference, type InferenceProgram, predictVolume } from "../src/inference/mod.ts";
import { fastKernelStatus, registerFastCpuKernels, unregisterFastCpuKernels } from "../src/kernels/fast/mod.ts";
import { assertClose, assertNoTensorLeak } from "./_util.ts";

await tf.setBackend("cpu");
registerFastCpuKernels();
const onednn = fastKernelStatus().active;

/** Random batch-norm state and biases, so folding is exercised (fresh stores hold mean 0, variance 1). */
function setup(net: Layer, shape: number[], seed: number): { store: VariableStore; x: tf.Tensor; whole: Float32Array } {
  const store = new VariableStore({ seed });
  const x = tf.randomUniform(shape, 0, 1, "float32", seed);
  tf.tidy(() => applyNetwork(net, [x], { store }));
  store.records().filter((r) => !r.path.endsWith("/w")).forEach((r, i) => {
    const v = r.path.endsWith("variance");
    tf.tidy(() => r.variable.assign(tf.randomUniform([...r.shape], v ? 0.5 : -0.5, v ? 2 : 0.5, "float32", seed + i)));
  });
  const whole = tf.tidy(() => applyNetwork(net, [x], { store, training: false }).dataSync() as Float32Array);
  return { store, x, whole };
}

function compiled(net: Layer, store: VariableStore, probe = [1, 8, 8, 8, 1]): InferenceProgram {
  const p = compileInference(net, store, probe);
  if (!("run" in p)) throw new Error(`expected the network to compile: ${p.reason}`);
  return p;
}

const smallHighRes = () => new HighRes3DNet({ numClasses: 3, actiFunc: "relu", nFeatures: [4, 6, 8, 5] });

Deno.test({
  name: "compiled HighRes3DNet (folded bn, fused residuals incl. zero-padded channels) equals op-by-op, batch of 2",
  ignore: !onednn,
  fn: () => {
    const net = smallHighRes();
    const { store, x, whole } = setup(net, [2, 16, 8, 24, 1], 1);
    const p = compiled(net, store);
    // head, then per block: bn+relu pass, conv+bn+relu, conv+residual; then the two 1×1 convolutions
    assertEquals(p.operations, 1 + 9 * 3 + 2);
    const a = p.run(x.dataSync() as Float32Array, x.shape);
    assertEquals(a.shape, [2, 16, 8, 24, 3]);
    assertClose(a.data, whole, { rtol: 1e-5, atol: 1e-5, what: "compiled highres3dnet" });
    const b = p.run(x.dataSync() as Float32Array, x.shape); // second run: reused buffers, same result
    assertEquals([...b.data], [...a.data]);
    // a single window of another shape plans its own buffers
    const one = tf.tidy(() => x.slice([1, 0, 0, 0, 0], [1, 8, 8, 16, 1]));
    const ref = tf.tidy(() => applyNetwork(net, [one], { store, training: false }).dataSync() as Float32Array);
    assertClose(p.run(one.dataSync() as Float32Array, one.shape).data, ref, { rtol: 1e-5, atol: 1e-5, what: "8³" });
    p.dispose();
    tf.dispose([x, one]);
    store.dispose();
  },
});

Deno.test({
  name: "compiled inference equals tfjs's stock cpu kernels (fast kernels unregistered) within 1e-5",
  ignore: !onednn,
  fn: () => {
    const net = smallHighRes();
    const { store, x } = setup(net, [1, 16, 16, 8, 1], 2);
    const p = compiled(net, store);
    const fast = p.run(x.dataSync() as Float32Array, x.shape).data;
    p.dispose();
    unregisterFastCpuKernels();
    try {
      const stock = tf.tidy(() => applyNetwork(net, [x], { store, training: false }).dataSync() as Float32Array);
      assertClose(fast, stock, { rtol: 1e-5, atol: 1e-5, what: "compiled vs stock" });
    } finally {
      registerFastCpuKernels();
    }
    x.dispose();
    store.dispose();
  },
});

Deno.test({
  name: "a residual read twice (not in place), a plain addition and a leaky relu after the sum compile exactly",
  ignore: !onednn,
  fn: () => {
    const a = new ConvLayer(3, { kernelSize: 3, withBias: true, name: "a" });
    const b = new ConvLayer(3, { kernelSize: 3, dilation: 2, withBias: true, name: "b" });
    const c = new ConvLayer(3, { kernelSize: 1, withBias: true, name: "c" });
    const net = new FunctionLayer("Twice", (scope: Scope, x: tf.Tensor) => {
      const h = tf.relu(a.apply(scope, x));
      const s = tf.leakyRelu(tf.add(b.apply(scope, h), h), 0.1); // fused: conv + bias + sum + leaky relu
      const t = tf.add(tf.mul(s, 2), h); // h read a third time: a separate addition
      return tf.add(c.apply(scope, t), tf.mul(t, -1));
    });
    const { store, x, whole } = setup(net, [1, 9, 10, 11, 2], 3);
    const p = compiled(net, store, [1, 8, 8, 8, 2]);
    assertClose(p.run(x.dataSync() as Float32Array, x.shape).data, whole, { rtol: 1e-5, atol: 1e-5, what: "dag" });
    p.dispose();
    x.dispose();
    store.dispose();
  },
});

/** A small 3D U-Net: conv-bn-relu, max pooling, a stride-2 transposed convolution, concatenations, trilinear resize. */
function smallUNet(): Layer {
  const c = (n: number, name: string) => new ConvolutionalLayer(n, { actiFunc: "relu", name });
  const [e1, e2, b, d2, d1] = [c(3, "e1"), c(4, "e2"), c(5, "b"), c(4, "d2"), c(3, "d1")];
  const head = new ConvLayer(2, { kernelSize: 1, withBias: true, name: "head" });
  return new FunctionLayer("SmallUNet", (scope: Scope, x: tf.Tensor) => {
    const pool = (t: tf.Tensor) => tf.maxPool3d(t as tf.Tensor5D, 2, 2, "valid");
    const a = e1.apply(scope, x);
    const m = e2.apply(scope, pool(a));
    const bottom = b.apply(scope, pool(m));
    const w = scope.variable("up_w", [2, 2, 2, 4, 5], { initializer: "he_normal" });
    const [n, dd, hh, ww] = bottom.shape;
    const up = tf.conv3dTranspose(
      bottom as tf.Tensor5D,
      w as tf.Tensor5D,
      [n!, dd! * 2, hh! * 2, ww! * 2, 4],
      2,
      "same",
    );
    const u = d2.apply(scope, tf.concat([m, up], 4));
    const [, d, h, wd] = a.shape;
    const r = resize3d(u as tf.Tensor5D, [d!, h!, wd!], { halfPixelCenters: true });
    return head.apply(scope, d1.apply(scope, tf.concat([a, r], 4)));
  });
}

Deno.test({
  name: "compiled U-Net (oneDNN pooling, transposed conv, concat, trilinear resize) equals op-by-op, batch of 2",
  ignore: !onednn,
  fn: () => {
    const net = smallUNet();
    const { store, x, whole } = setup(net, [2, 16, 8, 12, 1], 4);
    const p = compiled(net, store);
    // 6 convolutions (bn + relu folded/fused), 2 poolings, 1 transposed conv, 2 concatenations, 1 resize
    assertEquals(p.operations, 12);
    const a = p.run(x.dataSync() as Float32Array, x.shape);
    assertEquals(a.shape, [2, 16, 8, 12, 2]);
    assertClose(a.data, whole, { rtol: 1e-5, atol: 1e-5, what: "compiled u-net" });
    assertEquals([...p.run(x.dataSync() as Float32Array, x.shape).data], [...a.data]); // reused buffers
    p.dispose();
    x.dispose();
    store.dispose();
  },
});

Deno.test({
  name: "HighRes3DNet with PReLU (NiftyNet's relu(x) + α·(x − |x|)/2 form) compiles and equals op-by-op",
  ignore: !onednn,
  fn: () => {
    const net = new HighRes3DNet({ numClasses: 3, actiFunc: "prelu", nFeatures: [4, 6, 8, 5] });
    const { store, x, whole } = setup(net, [1, 16, 8, 8, 1], 7);
    const p = compiled(net, store);
    assertEquals(p.operations, 1 + 9 * 3 + 2); // as with ReLU: PReLU joins each convolution's pass
    assertClose(p.run(x.dataSync() as Float32Array, x.shape).data, whole, { rtol: 1e-5, atol: 1e-5, what: "prelu" });
    p.dispose();
    x.dispose();
    store.dispose();
  },
});

Deno.test("resizing with alignCorners or to a fixed size and concatenation along space do not compile; say why", () => {
  const conv = new ConvLayer(1, { kernelSize: 3, name: "c" });
  const corners = new FunctionLayer(
    "Corners",
    (scope: Scope, x: tf.Tensor) => conv.apply(scope, resize3d(x as tf.Tensor5D, [16, 16, 16], { alignCorners: true })),
  );
  const spatial = new FunctionLayer("Spatial", (scope: Scope, x: tf.Tensor) => tf.concat([conv.apply(scope, x), x], 1));
  const fixed = new FunctionLayer(
    "Fixed",
    (scope: Scope, x: tf.Tensor) =>
      conv.apply(scope, resize3d(x as tf.Tensor5D, [16, 16, 16], { halfPixelCenters: true })),
  );
  for (const [net, why] of [[corners, /half-pixel/], [spatial, /axis 1/], [fixed, /does not scale/]] as const) {
    const store = new VariableStore({ seed: 1 });
    const p = compileInference(net, store, [1, 8, 8, 8, 1]);
    assert("reason" in p && (why.test(p.reason) || /oneDNN/.test(p.reason)), JSON.stringify(p));
    store.dispose();
  }
});

Deno.test("a network with a reduction over space does not compile; predictVolume then applies it op by op", () => {
  const conv = new ConvLayer(2, { kernelSize: 3, name: "c" });
  const net = new FunctionLayer("Centred", (scope: Scope, x: tf.Tensor) => conv.apply(scope, tf.sub(x, tf.mean(x))));
  const { store, x } = setup(net, [1, 8, 8, 8, 1], 4);
  const p = compileInference(net, store, [1, 8, 8, 8, 1]);
  assert("reason" in p && /Mean|oneDNN/.test(p.reason), JSON.stringify(p));
  assertEquals(predictVolume(net, store, x).kernels, "tfjs");
  x.dispose();
  store.dispose();
});

Deno.test({
  name: "HighRes3DNet slabs in predictVolume run compiled (oneDNN) and equal the whole-volume application",
  ignore: !onednn,
  fn: () => {
    const net = smallHighRes();
    const { store, x, whole } = setup(net, [1, 40, 8, 8, 1], 5);
    const r = predictVolume(net, store, x, { planes: 16 });
    assertEquals([r.method, r.kernels], ["slabs", "onednn"]);
    assertClose(r.data, whole, { rtol: 1e-5, atol: 1e-5, what: "highres3dnet slabs" });
    x.dispose();
    store.dispose();
  },
});

Deno.test({
  name: "compiled inference leaves the tensor count flat",
  ignore: !onednn,
  fn: async () => {
    const net = smallHighRes();
    const { store, x } = setup(net, [1, 8, 8, 8, 1], 6);
    compiled(net, store).dispose(); // first compile creates nothing new afterwards either
    await assertNoTensorLeak("compileInference", () => {
      const p = compiled(net, store);
      p.run(x.dataSync() as Float32Array, x.shape);
      p.dispose();
    });
    x.dispose();
    store.dispose();
  },
});
