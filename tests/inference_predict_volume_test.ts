/**
 * predictVolume gives, in bounded memory, what one application of the network to the whole volume gives: streamed
 * chains (oneDNN with fused bias/activation, and tfjs's kernels), folded batch norm, overlapping slabs for other
 * local networks, one application otherwise; the tensor count stays flat.
 */
import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import "../src/kernels/mod.ts";
import { applyNetwork, FunctionLayer, Layer, type Scope, VariableStore } from "../src/dsl/mod.ts";
import { ConvLayer, ConvolutionalLayer } from "../layers/mod.ts";
import { MeshNet } from "../networks/mod.ts";
import { predictVolume } from "../src/inference/mod.ts";
import { fastKernelStatus, registerFastCpuKernels, unregisterFastCpuKernels } from "../src/kernels/fast/mod.ts";
import { assertClose, assertNoTensorLeak } from "./_util.ts";

await tf.setBackend("cpu");
registerFastCpuKernels();
const onednn = fastKernelStatus().active;

/** Gives every non-kernel variable (bias, batch-norm state) random values, so folding and bias are exercised. */
function randomizeState(store: VariableStore, seed: number): void {
  store.records().filter((r) => !r.path.endsWith("/w")).forEach((r, i) => {
    const low = r.path.endsWith("variance") ? 0.5 : -0.5, high = r.path.endsWith("variance") ? 2 : 0.5;
    tf.tidy(() => r.variable.assign(tf.randomUniform([...r.shape], low, high, "float32", seed + i)));
  });
}

function setup(net: Layer, shape: number[], seed = 1): { store: VariableStore; x: tf.Tensor; whole: Float32Array } {
  const store = new VariableStore({ seed });
  const x = tf.randomUniform(shape, 0, 1, "float32", seed);
  tf.tidy(() => applyNetwork(net, [x], { store }));
  randomizeState(store, seed);
  const whole = tf.tidy(() => applyNetwork(net, [x], { store }).dataSync() as Float32Array);
  return { store, x, whole };
}

/** conv → batch norm → ELU, twice, then a 1×1 classifier: a chain whose batch norm folds into the filters. */
class BnStack extends Layer {
  readonly #blocks = [
    new ConvolutionalLayer(6, { kernelSize: 3, dilation: 2, actiFunc: "elu", withBias: true, name: "a" }),
    new ConvolutionalLayer(4, { kernelSize: [3, 1, 3], actiFunc: "relu6", name: "b" }),
    new ConvolutionalLayer(3, { kernelSize: 1, withBn: false, withBias: true, name: "out" }),
  ];
  constructor() {
    super("BnStack");
  }
  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    return this.#blocks.reduce((t, b) => b.apply(scope, t), x);
  }
}

/** A residual connection: not a chain, but spatially local. */
class Residual extends Layer {
  readonly #a = new ConvLayer(2, { kernelSize: 3, dilation: 3, withBias: true, name: "a" });
  readonly #b = new ConvLayer(2, { kernelSize: 3, withBias: true, name: "b" });
  constructor() {
    super("Residual");
  }
  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const h = tf.relu(this.#a.apply(scope, x));
    return tf.add(h, this.#b.apply(scope, h));
  }
}

Deno.test({
  name: "streamed MeshNet equals one whole-volume application for 5 and all planes per step (oneDNN, fused)",
  ignore: !onednn,
  fn: () => {
    const net = new MeshNet({ numClasses: 3, channels: 5 });
    const { store, x, whole } = setup(net, [1, 37, 14, 11, 1]);
    for (const planes of [5, 37]) {
      const r = predictVolume(net, store, x, { planes, kernels: "onednn" });
      assertEquals([r.method, r.kernels, r.shape], ["stream", "onednn", [1, 37, 14, 11, 3]]);
      assertClose(r.data, whole, { rtol: 1e-5, atol: 1e-5, what: `meshnet, ${planes} planes` });
    }
    x.dispose();
    store.dispose();
  },
});

Deno.test("streamed MeshNet with tfjs's kernels (the fallback) equals the whole-volume application", () => {
  const net = new MeshNet({ numClasses: 2, channels: 3, dilations: [1, 4, 2] });
  const { store, x, whole } = setup(net, [1, 19, 9, 8, 1], 2);
  const r = predictVolume(net, store, x, { planes: 3, kernels: "tfjs" });
  assertEquals([r.method, r.kernels], ["stream", "tfjs"]);
  assertClose(r.data, whole, { rtol: 1e-5, atol: 1e-5, what: "meshnet via tfjs" });
  x.dispose();
  store.dispose();
});

Deno.test("batch norm (inference mode) folds into the convolutions: conv-bn-elu/relu6 stack streams exactly", () => {
  const net = new BnStack();
  const { store, x, whole } = setup(net, [1, 23, 10, 9, 2], 3);
  for (const kernels of ["auto", "tfjs"] as const) {
    const r = predictVolume(net, store, x, { planes: 5, kernels });
    assertEquals(r.method, "stream");
    assertClose(r.data, whole, { rtol: 1e-5, atol: 1e-5, what: `bn stack (${r.kernels})` });
  }
  x.dispose();
  store.dispose();
});

Deno.test("2D chains stream along their first axis too", () => {
  const blocks = [
    new ConvolutionalLayer(4, {
      kernelSize: 3,
      dilation: 3,
      withBn: false,
      withBias: true,
      actiFunc: "relu",
      name: "a",
    }),
    new ConvolutionalLayer(2, { kernelSize: 3, withBn: false, withBias: true, name: "b" }),
  ];
  const net = new FunctionLayer("Net2D", (scope: Scope, x: tf.Tensor) => blocks.reduce((t, b) => b.apply(scope, t), x));
  const { store, x, whole } = setup(net, [1, 30, 17, 1], 4);
  const r = predictVolume(net, store, x, { planes: 7 });
  assertEquals([r.method, r.shape], ["stream", [1, 30, 17, 2]]);
  assertClose(r.data, whole, { rtol: 1e-5, atol: 1e-5, what: "2D meshnet" });
  x.dispose();
  store.dispose();
});

Deno.test({
  name: "oneDNN fused result equals tfjs's stock cpu kernels (fast kernels unregistered) within 1e-5",
  ignore: !onednn,
  fn: () => {
    const net = new MeshNet({ numClasses: 3, channels: 4, dilations: [1, 2, 4, 2], actiFunc: "elu" });
    const { store, x } = setup(net, [1, 21, 12, 10, 1], 5);
    const fast = predictVolume(net, store, x, { planes: 6, kernels: "onednn" });
    unregisterFastCpuKernels();
    try {
      const stock = predictVolume(net, store, x, { planes: 6, kernels: "tfjs" });
      assertEquals(stock.kernels, "tfjs");
      assertClose(fast.data, stock.data, { rtol: 1e-5, atol: 1e-5, what: "onednn vs stock" });
    } finally {
      registerFastCpuKernels();
    }
    x.dispose();
    store.dispose();
  },
});

Deno.test("labels are the argmax of the logits", () => {
  const net = new MeshNet({ numClasses: 4, channels: 3, dilations: [1, 2] });
  const { store, x } = setup(net, [1, 12, 7, 6, 1], 6);
  const logits = predictVolume(net, store, x);
  const labels = predictVolume(net, store, x, { output: "labels", planes: 5 });
  assertEquals(labels.shape, [1, 12, 7, 6]);
  assert(labels.data instanceof Int32Array);
  const expected = tf.tidy(() => tf.argMax(tf.tensor(logits.data, [...logits.shape]), -1).dataSync());
  assertEquals([...labels.data], [...expected]);
  x.dispose();
  store.dispose();
});

Deno.test("a residual network (not a chain) runs on overlapping slabs with the receptive radius as halo, exactly", () => {
  const net = new Residual();
  const { store, x, whole } = setup(net, [1, 29, 8, 7, 1], 7);
  const r = predictVolume(net, store, x, { planes: 6 });
  assertEquals(r.method, "slabs");
  assert(r.note?.includes("Add"), r.note);
  assertClose(r.data, whole, { rtol: 1e-5, atol: 1e-5, what: "residual slabs" });
  x.dispose();
  store.dispose();
});

Deno.test("a network with pooling runs in one application and says why", () => {
  const net = new FunctionLayer("Pooled", (scope: Scope, x: tf.Tensor) => {
    const conv = new ConvLayer(2, { kernelSize: 3, name: "c" });
    return tf.relu(conv.apply(scope, tf.maxPool3d(x as tf.Tensor5D, 2, 2, "same")));
  });
  const { store, x, whole } = setup(net, [1, 8, 8, 8, 1], 8);
  const r = predictVolume(net, store, x);
  assertEquals([r.method, r.shape], ["whole", [1, 4, 4, 4, 2]]);
  assertClose(r.data, whole, { what: "pooled" });
  assertThrows(() => predictVolume(net, store, x, { method: "stream" }), /cannot be streamed/);
  x.dispose();
  store.dispose();
});

Deno.test("predictVolume leaves the tensor count flat and rejects a batch of volumes with one clear line", async () => {
  const net = new MeshNet({ numClasses: 2, channels: 3, dilations: [1, 2] });
  const { store, x } = setup(net, [1, 10, 6, 6, 1], 9);
  predictVolume(net, store, x, { method: "slabs" }); // first call creates nothing new either way
  for (const method of ["stream", "slabs", "whole"] as const) {
    await assertNoTensorLeak(`predictVolume ${method}`, () => predictVolume(net, store, x, { method, planes: 4 }));
  }
  const batch = tf.zeros([2, 4, 4, 4, 1]);
  assertThrows(() => predictVolume(net, store, batch), /expected one volume \[1, …spatial, channels\].*\[2,4,4,4,1\]/);
  tf.dispose([batch, x]);
  store.dispose();
});
