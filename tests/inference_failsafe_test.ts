/**
 * The low-GPU-memory failsafe (issue 13): slabs planned to a tensor-size limit give the unrestricted run's labels
 * voxel for voxel on webgpu (and cpu's away from near-ties); a slab that fails with an out-of-memory error is retried
 * with smaller slabs to the same labels; a lost device moves the run to the next backend with one line; progress
 * fractions increase to 1. webgpu cases skip, with the reason, when Deno has no WebGPU adapter.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, FunctionLayer, Layer, type Scope, VariableStore } from "../src/dsl/mod.ts";
import { MeshNet } from "../networks/meshnet.ts";
import {
  DeviceFailure,
  deviceLimits,
  planSlabPlanes,
  predictLabelsFailsafe,
  predictVolume,
  widestPerVoxel,
  withBackendFallback,
} from "../src/inference/mod.ts";
import { webgpuAvailable } from "./_backend_parity.ts";

const gpu = await webgpuAvailable();
if (gpu.ok) await useBackend("webgpu");
await useBackend("cpu");
const skipped = gpu.ok ? "" : ` [skipped: ${gpu.reason}]`;

const SHAPE = [1, 37, 12, 10, 1];
const HALO = 4; // dilations 1, 2, 1 and the 1³ classifier

/** A MeshNet whose slabs thicker than `maxPlanes` fail as a small GPU's would. */
class SmallGpu extends Layer {
  maxPlanes = Infinity;
  failures = 0;
  constructor(readonly inner: Layer) {
    super("SmallGpu");
  }
  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    if (x.shape[1]! > this.maxPlanes) {
      this.failures++;
      throw new Error(`simulated: out of memory allocating a slab of ${x.shape[1]} planes`);
    }
    return this.inner.apply(scope, x) as tf.Tensor;
  }
}

function setup() {
  const net = new SmallGpu(new MeshNet({ numClasses: 3, channels: 4, dilations: [1, 2, 1] }));
  const store = new VariableStore({ seed: 13 });
  const values = Float32Array.from(tf.tidy(() => tf.randomUniform(SHAPE, 0, 1, "float32", 13).dataSync()));
  tf.tidy(() => void applyNetwork(net, [tf.zeros(SHAPE)], { store }));
  return { net, store, values };
}

/** Labels agree wherever the cpu logits' two largest channels differ by more than 1e-4 (no near-ties). */
function differAwayFromTies(logits: Float32Array, channels: number, a: Int32Array, b: Int32Array): number {
  let differ = 0;
  for (let v = 0; v < a.length; v++) {
    if (a[v] === b[v]) continue;
    const row = Array.from(logits.subarray(v * channels, (v + 1) * channels)).sort((p, q) => q - p);
    if (row[0] - row[1] > 1e-4) differ++;
  }
  return differ;
}

Deno.test("planSlabPlanes fits planes plus both halos in the limit, the whole length when it fits, 0 when nothing does", () => {
  assertEquals(planSlabPlanes({ length: 200, planeValues: 1000, halo: 10, maxBytes: 4000 * 300 }), 200);
  assertEquals(planSlabPlanes({ length: 200, planeValues: 1000, halo: 10, maxBytes: 4000 * 50 }), 30);
  assertEquals(planSlabPlanes({ length: 200, planeValues: 1000, halo: 10, maxBytes: 4000 * 21 }), 1);
  assertEquals(planSlabPlanes({ length: 200, planeValues: 1000, halo: 10, maxBytes: 4000 * 20 }), 0);
});

Deno.test("failsafe on cpu streams the network: predictVolume's labels, many increasing progress fractions ending at 1", async () => {
  const { net, store, values } = setup();
  try {
    const x = tf.tensor(values, SHAPE);
    const ref = predictVolume(net, store, x, { output: "labels" });
    x.dispose();
    const fractions: number[] = [];
    const before = tf.memory().numTensors;
    const got = await predictLabelsFailsafe(net, store, values, SHAPE, { onProgress: (f) => fractions.push(f) });
    assertEquals(tf.memory().numTensors, before);
    assertEquals(got.labels, ref.data);
    assert(fractions.length >= 4, `only ${fractions.length} progress reports`);
    assert(fractions.every((f, i) => i === 0 || f > fractions[i - 1]), `not increasing: ${fractions}`);
    assertEquals(fractions.at(-1), 1);
    assertEquals(widestPerVoxel(net, store, [1, 8, 8, 8, 1]), 4);
  } finally {
    store.dispose();
  }
});

Deno.test({
  name:
    `failsafe on webgpu: a tiny tensor limit gives the unrestricted labels voxel for voxel (cpu's off ties)${skipped}`,
  ignore: !gpu.ok,
  fn: async () => {
    const { net, store, values } = setup();
    const x = tf.tensor(values, SHAPE);
    const logits = predictVolume(net, store, x);
    const cpu = predictVolume(net, store, x, { output: "labels" });
    x.dispose();
    try {
      await useBackend("webgpu");
      const limits = deviceLimits();
      assert(limits.maxTensorBytes >= 2 ** 27 && limits.maxTensorBytes < Infinity, JSON.stringify(limits));
      const whole = await predictLabelsFailsafe(net, store, values, SHAPE);
      assertEquals([whole.slabs, whole.planes], [1, 37]);
      const before = tf.memory().numTensors;
      const fractions: number[] = [];
      // 4 channels × 12 × 10 values per plane: room for 2 planes plus both halos
      const limit = (2 + 2 * HALO) * 4 * 12 * 10 * 4;
      const small = await predictLabelsFailsafe(net, store, values, SHAPE, {
        maxTensorBytes: limit,
        onProgress: (f) => fractions.push(f),
      });
      assertEquals(tf.memory().numTensors, before, "tensors left behind");
      assertEquals([small.planes, small.slabs, small.retries], [2, 19, 0]);
      assertEquals(small.labels, whole.labels);
      assertEquals(fractions.length, 19);
      assertEquals(differAwayFromTies(logits.data as Float32Array, 3, cpu.data as Int32Array, small.labels), 0);
      let message = "";
      await predictLabelsFailsafe(net, store, values, SHAPE, { maxTensorBytes: limit / 2 }).catch((e) => {
        assert(e instanceof DeviceFailure && !e.retry);
        message = e.message;
      });
      assertEquals(message, "webgpu: one slab of the network needs 16.9 KiB, more than 9.4 KiB (maxTensorBytes)");
    } finally {
      await useBackend("cpu");
      store.dispose();
    }
  },
});

Deno.test({
  name: `failsafe on webgpu: slabs that run out of memory are retried smaller, to the same labels${skipped}`,
  ignore: !gpu.ok,
  fn: async () => {
    const { net, store, values } = setup();
    try {
      await useBackend("webgpu");
      const whole = await predictLabelsFailsafe(net, store, values, SHAPE);
      net.maxPlanes = 20; // the planned whole volume (37) fails, then 18 + 8 halo planes, then 9 + 8 fit
      const notices: string[] = [];
      const retried = await predictLabelsFailsafe(net, store, values, SHAPE, { onNotice: (l) => notices.push(l) });
      assertEquals([retried.retries, retried.planes], [2, 9]);
      assertEquals(retried.labels, whole.labels);
      assertEquals(notices, [
        "webgpu: simulated: out of memory allocating a slab of 37 planes: retrying with slabs of 18 planes",
        "webgpu: simulated: out of memory allocating a slab of 22 planes: retrying with slabs of 9 planes",
      ]);
      net.maxPlanes = 8; // not even one plane and its halos: the caller moves on
      let failure: unknown;
      await predictLabelsFailsafe(net, store, values, SHAPE).catch((e) => failure = e);
      assert(failure instanceof DeviceFailure, String(failure));
    } finally {
      await useBackend("cpu");
      store.dispose();
    }
  },
});

Deno.test({
  name: `failsafe on webgpu: when no slab of the whole network fits, layer by layer gives the same labels${skipped}`,
  ignore: !gpu.ok,
  fn: async () => {
    const net = new MeshNet({ numClasses: 3, channels: 4, dilations: [1, 2, 1] });
    const store = new VariableStore({ seed: 13 });
    const values = Float32Array.from(tf.tidy(() => tf.randomUniform(SHAPE, 0, 1, "float32", 13).dataSync()));
    tf.tidy(() => void applyNetwork(net, [tf.zeros(SHAPE)], { store }));
    const stages = net.stages().map((stage, i, all) => {
      const wrapper = new FunctionLayer(net.name, (scope, x: tf.Tensor) => stage.layer.apply(scope, x) as tf.Tensor);
      return {
        apply: (x: tf.Tensor) => applyNetwork(wrapper, [x], { store }) as tf.Tensor,
        radius: stage.radius,
        channels: i === all.length - 1 ? 3 : 4,
      };
    });
    try {
      await useBackend("webgpu");
      const whole = await predictLabelsFailsafe(net, store, values, SHAPE);
      const notices: string[] = [];
      const before = tf.memory().numTensors;
      // one plane of the whole network with its halos takes 9 × 480 × 4 bytes; one layer at most 5 × 480 × 4
      const layered = await predictLabelsFailsafe(net, store, values, SHAPE, {
        maxTensorBytes: 10_000,
        stages,
        onNotice: (l) => notices.push(l),
      });
      assertEquals(tf.memory().numTensors, before, "tensors left behind");
      assertEquals(layered.stages, 4);
      assertEquals(layered.labels, whole.labels);
      assertEquals(notices, [
        "webgpu: one slab of the network needs 16.9 KiB, more than 9.8 KiB (maxTensorBytes): running layer by layer",
      ]);
    } finally {
      await useBackend("cpu");
      store.dispose();
    }
  },
});

Deno.test("withBackendFallback moves to the next backend on a device failure with one line; other errors stop it", async () => {
  const used: string[] = [];
  const notices: string[] = [];
  const use = (b: string) => {
    if (b === "webgpu") return Promise.reject(new Error('backend "webgpu" is unavailable'));
    used.push(b);
    return Promise.resolve();
  };
  const result = await withBackendFallback(["webgl", "webgpu", "wasm", "cpu"], (backend) => {
    if (backend === "webgl") throw new DeviceFailure("webgl: the WebGL context was lost", false);
    return Promise.resolve(`labels from ${backend}`);
  }, { use, onNotice: (l) => notices.push(l) });
  assertEquals(result, {
    value: "labels from wasm",
    backend: "wasm",
    notes: ["webgl: the WebGL context was lost; running on wasm instead"],
  });
  assertEquals(used, ["webgl", "wasm"]);
  assertEquals(notices, result.notes);
  let message = "";
  await withBackendFallback(["cpu", "wasm"], () => Promise.reject(new Error("input.nii: not a NIfTI file")), { use })
    .catch((e) => message = e.message);
  assertEquals(message, "input.nii: not a NIfTI file");
});
