/**
 * registerKernelFixes (src/kernels): idempotence without warnings, which backends it patches, the corrected
 * MaxPool3D/MaxPool3DGrad/MaxPoolGrad (wasm) against PyTorch and finite differences, and a small training loop using every fixed op on cpu and
 * wasm that learns and leaks no tensors.
 */
import { backendLoaders, tf } from "../src/deps.ts";
import { conv, fixedBackends, registerKernelFixes, resize3d } from "../src/kernels/mod.ts";
import { assertClose, assertNoTensorLeak, finiteDifference, loadFixture } from "./_util.ts";
import { BACKENDS, onBackend, onBackendAsync } from "./_kernel_checks.ts";

await backendLoaders.wasm();
registerKernelFixes();

interface PoolCase {
  filter: number;
  stride: number;
  out_shape: number[];
  r: number[];
  out: number[];
  grad_x: number[];
}
const pool = loadFixture<{ max_pool3d: { x_shape: number[]; x: number[]; cases: PoolCase[] } }>(
  "kernels_reference",
).max_pool3d;

Deno.test("registerKernelFixes is idempotent: a second call prints nothing and keeps the registered kernels", () => {
  const before = ["Conv2D", "Conv3D", "Conv3DBackpropInputV2"].map((k) => tf.getGradient(k));
  const kernels = ["cpu", "wasm"].map((b) => tf.getKernel("ResizeBilinearGrad", b));
  const warnings: unknown[] = [];
  const { warn, log } = console;
  console.warn = (...a: unknown[]) => warnings.push(a);
  console.log = (...a: unknown[]) => warnings.push(a);
  try {
    registerKernelFixes();
    registerKernelFixes();
  } finally {
    console.warn = warn;
    console.log = log;
  }
  if (warnings.length > 0) throw new Error(`printed ${JSON.stringify(warnings)}`);
  ["Conv2D", "Conv3D", "Conv3DBackpropInputV2"].forEach((k, i) => {
    if (tf.getGradient(k) !== before[i]) throw new Error(`gradient of ${k} was replaced again`);
  });
  ["cpu", "wasm"].forEach((b, i) => {
    if (tf.getKernel("ResizeBilinearGrad", b) !== kernels[i]) throw new Error(`${b} kernel was replaced again`);
  });
  // webgl too: the tfjs union registers its kernels under Deno as well (the backend itself cannot start here)
  if (fixedBackends().join() !== "cpu,wasm,webgl") throw new Error(`fixed backends: ${fixedBackends()}`);
  if (tf.getGradient("Conv3DBackpropInputV2") === undefined) throw new Error("no Conv3DBackpropInputV2 gradient");
});

for (const backend of BACKENDS) {
  for (const c of pool.cases) {
    Deno.test(`maxPool3d ${c.filter}/${c.stride} on mostly negative input: output and input gradient match PyTorch on ${backend}`, async () => {
      await onBackend(backend, () => {
        tf.tidy(() => {
          const x: tf.Tensor = tf.tensor(pool.x, pool.x_shape), r = tf.tensor(c.r, c.out_shape);
          const f = (t: tf.Tensor) => tf.maxPool3d(t as tf.Tensor5D, c.filter, c.stride, "valid");
          assertClose(f(x), c.out, { what: "output" });
          assertClose(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), r)))(x), c.grad_x, { what: "input gradient" });
        });
      });
    });
  }

  Deno.test(`maxPool3d and 2D maxPool input gradients with negative maxima match finite differences (valid, same) on ${backend}`, async () => {
    await onBackend(backend, () => {
      tf.tidy(() => {
        const x3: tf.Tensor = tf.tensor(pool.x, pool.x_shape), x2 = tf.reshape(x3, [1, 24, 5, 2]);
        for (const pad of ["valid", "same"] as const) {
          for (
            const [x, f] of [
              [x3, (t: tf.Tensor) => tf.maxPool3d(t as tf.Tensor5D, 3, 2, pad)],
              [x2, (t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 3, 2, pad)],
            ] as const
          ) {
            const r = tf.randomNormal(f(x).shape, 0, 1, "float32", 21);
            const loss = (t: tf.Tensor): tf.Scalar => tf.sum(tf.mul(f(t), r));
            assertClose(tf.grad(loss)(x), finiteDifference(loss, x, { eps: 1e-3 }), {
              rtol: 1e-2,
              atol: 1e-2,
              what: `rank ${x.rank} ${pad}`,
            });
          }
        }
      });
    });
  });

  Deno.test(`a small 3D training loop (dilated conv, strided conv, conv3dTranspose, resize3d, maxPool3d) learns and leaks no tensors on ${backend}`, async () => {
    await onBackendAsync(backend, async () => {
      const x = tf.randomNormal([1, 6, 6, 6, 2], 0, 1, "float32", 31) as tf.Tensor5D;
      const target = tf.randomNormal([1, 6, 6, 6, 1], 0, 1, "float32", 32);
      const init = (shape: number[], seed: number) => tf.variable(tf.randomNormal(shape, 0, 0.3, "float32", seed));
      const w1 = init([3, 3, 3, 2, 4], 33), w2 = init([3, 3, 3, 4, 4], 34), w3 = init([2, 2, 2, 3, 4], 35);
      const loss = () =>
        tf.tidy(() => {
          const h1 = tf.relu(conv(x, w1, { dilations: 2 }));
          const h2 = tf.relu(conv(h1, w2, { strides: 2 })); // [1, 3, 3, 3, 4]
          const up = tf.conv3dTranspose(h2, w3 as tf.Tensor5D, [1, 6, 6, 6, 3], 2, "same");
          const pooled = tf.maxPool3d(up, 2, 2, "valid"); // [1, 3, 3, 3, 3]
          const out = resize3d(pooled, [6, 6, 6], { halfPixelCenters: true });
          return tf.mean(tf.square(tf.sub(tf.sum(out, -1, true), target))) as tf.Scalar;
        });
      const optimizer = tf.train.sgd(0.02);
      const step = () => {
        const cost = optimizer.minimize(loss, true, [w1, w2, w3])!;
        const value = cost.dataSync()[0];
        cost.dispose();
        return value;
      };
      const first = step();
      let last = first;
      await assertNoTensorLeak(`training steps on ${backend}`, () => {
        for (let i = 0; i < 8; i++) last = step();
      });
      if (!(last < first)) throw new Error(`loss did not decrease: ${first} → ${last}`);
      optimizer.dispose();
      tf.dispose([x, target, w1, w2, w3]);
    });
  });
}
