/**
 * Whole-volume inference on webgpu (issue 12): `predictVolumeAsync` on webgpu gives the cpu backend's
 * `predictVolume` result (logits within 1e-4 relative, the same labels) for a streamable chain (MeshNet), a local
 * network that is not a chain (residual block) and a non-local one (U-Net: one application), reading nothing
 * synchronously and leaving no tensors behind; `predictVolume` there refuses with one line naming the way out.
 * Skips, with the reason, when Deno has no WebGPU adapter.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, Layer, type Scope, VariableStore } from "../src/dsl/mod.ts";
import { ConvLayer } from "../layers/mod.ts";
import { MeshNet } from "../networks/meshnet.ts";
import { UNet3D } from "../networks/unet.ts";
import { predictVolume, predictVolumeAsync } from "../src/inference/mod.ts";
import { relativeError, webgpuAvailable } from "./_backend_parity.ts";
import { assertThrows } from "./_util.ts";

const gpu = await webgpuAvailable();
if (gpu.ok) await useBackend("webgpu");
await useBackend("cpu");
const skipped = gpu.ok ? "" : ` [skipped: ${gpu.reason}]`;

/** A residual connection: spatially local, not a chain. */
class Residual extends Layer {
  readonly #a = new ConvLayer(3, { kernelSize: 3, dilation: 2, withBias: true, name: "a" });
  readonly #b = new ConvLayer(3, { kernelSize: 3, withBias: true, name: "b" });
  constructor() {
    super("Residual");
  }
  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const h = tf.relu(this.#a.apply(scope, x));
    return tf.add(h, this.#b.apply(scope, h));
  }
}

/** Labels agree wherever the cpu logits' two largest channels differ by more than `margin` (no near-ties). */
function sameLabels(logits: Float32Array, channels: number, a: Int32Array, b: Int32Array, margin = 1e-4): number {
  let differ = 0;
  for (let v = 0; v < a.length; v++) {
    if (a[v] === b[v]) continue;
    const row = Array.from(logits.subarray(v * channels, (v + 1) * channels)).sort((p, q) => q - p);
    if (row[0] - row[1] > margin) differ++;
  }
  return differ;
}

const CASES: { name: string; build: () => Layer; shape: number[]; method: string }[] = [
  {
    name: "MeshNet (a chain)",
    build: () => new MeshNet({ numClasses: 3, channels: 4 }),
    shape: [1, 21, 9, 7, 1],
    method: "slabs",
  },
  {
    name: "a residual block (local, not a chain)",
    build: () => new Residual(),
    shape: [1, 17, 8, 6, 1],
    method: "slabs",
  },
  {
    name: "a U-Net (not local: one application)",
    build: () => new UNet3D({ numClasses: 2, nFeatures: [2, 2, 3, 3, 4], border: 0 }),
    shape: [1, 16, 16, 16, 1],
    method: "whole",
  },
];

for (const c of CASES) {
  Deno.test({
    name: `predictVolumeAsync on webgpu gives cpu's predictVolume logits and labels: ${c.name}${skipped}`,
    ignore: !gpu.ok,
    fn: async () => {
      await useBackend("cpu");
      const net = c.build();
      const store = new VariableStore({ seed: 5 });
      const x = tf.randomUniform(c.shape, 0, 1, "float32", 5);
      tf.tidy(() => void applyNetwork(net, [x], { store }));
      const ref = predictVolume(net, store, x);
      const refLabels = predictVolume(net, store, x, { output: "labels" });
      try {
        await useBackend("webgpu");
        await predictVolumeAsync(net, store, x, { planes: 6 }); // first use compiles the shaders
        const before = tf.memory().numTensors;
        const got = await predictVolumeAsync(net, store, x, { planes: 6 });
        const gotLabels = await predictVolumeAsync(net, store, x, { planes: 6, output: "labels" });
        assertEquals(tf.memory().numTensors, before, "tensors left behind on webgpu");
        assertEquals(got.method, c.method);
        assertEquals(got.shape, ref.shape);
        assertEquals(gotLabels.shape, refLabels.shape);
        const e = relativeError(ref.data as Float32Array, got.data as Float32Array);
        console.log(`predictVolumeAsync webgpu ${c.name}: relative error ${e.toExponential(2)} (${got.method})`);
        assert(e <= 1e-4, `${c.name}: relative error ${e}`);
        const channels = ref.shape[ref.shape.length - 1];
        const differ = sameLabels(
          ref.data as Float32Array,
          channels,
          refLabels.data as Int32Array,
          gotLabels.data as Int32Array,
        );
        assertEquals(differ, 0, `${c.name}: ${differ} labels differ away from ties`);
      } finally {
        await useBackend("cpu");
        x.dispose();
        store.dispose();
      }
    },
  });
}

Deno.test({
  name:
    `on webgpu predictVolume refuses with one line naming predictVolumeAsync, which refuses host-only options${skipped}`,
  ignore: !gpu.ok,
  fn: async () => {
    await useBackend("cpu");
    const net = new MeshNet({ numClasses: 2, channels: 2 });
    const store = new VariableStore({ seed: 1 });
    const x = tf.zeros([1, 6, 6, 6, 1]);
    try {
      await useBackend("webgpu");
      assertThrows(
        () => predictVolume(net, store, x),
        'predict volume: backend "webgpu" cannot read tensors synchronously: use predictVolumeAsync',
      );
      let message = "";
      await predictVolumeAsync(net, store, x, { method: "stream" }).catch((e) => message = e.message);
      assertEquals(
        message,
        'predict volume: method "stream" runs on the host, not on backend "webgpu": use method "auto", "slabs" or "whole"',
      );
    } finally {
      await useBackend("cpu");
      x.dispose();
      store.dispose();
    }
  },
});
