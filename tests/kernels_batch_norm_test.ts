import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { backendLoaders, tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from "../src/kernels/mod.ts";
import { batchNormTrainingConfig, batchNormTrainingGradConfig } from "../src/kernels/batch_norm.ts";
import { batchNormTraining } from "../layers/bn.ts";
import { assertClose, assertNoTensorLeak } from "./_util.ts";

await useBackend("cpu");

/** Output and the three gradients of sum(bn(x)·r), with whatever batch-norm kernels the backend has. */
function run(seed: number): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.randomNormal([2, 5, 6, 7, 3], 1.5, 2, "float32", seed);
    const gamma = tf.randomNormal([3], 1, 0.2, "float32", seed + 1);
    const beta = tf.randomNormal([3], 0, 0.2, "float32", seed + 2);
    const r = tf.randomNormal(x.shape, 0, 1, "float32", seed + 3);
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { y, mean, variance } = batchNormTraining(a, g, b, 1e-5);
      tf.dispose([mean, variance]);
      return tf.sum(tf.mul(y, r));
    };
    const { y, mean, variance } = batchNormTraining(x, gamma, beta, 1e-5);
    const grads = tf.grads(f)([x, gamma, beta]);
    const values = [y, mean, variance, ...grads].map((t) => t.dataSync().slice() as Float32Array);
    // The batch statistics are kept for the caller's moving averages: the caller disposes them.
    tf.dispose([mean, variance]);
    return values;
  }) as unknown as Float32Array[];
}

/** Runs `fn` with our fused kernels unregistered on the current backend (the op-formula path), then restores them. */
function withoutFusedKernels<T>(fn: () => T): T {
  const backend = tf.getBackend();
  tf.unregisterKernel(BATCH_NORM_TRAINING, backend);
  tf.unregisterKernel(BATCH_NORM_TRAINING_GRAD, backend);
  try {
    return fn();
  } finally {
    tf.registerKernel(batchNormTrainingConfig(backend));
    tf.registerKernel(batchNormTrainingGradConfig(backend));
  }
}

Deno.test("fused batch-norm kernels equal the op formula: output, batch stats, dx, dgamma, dbeta (cpu)", () => {
  const fused = run(7);
  const formula = withoutFusedKernels(() => run(7));
  const names = ["y", "mean", "variance", "dx", "dgamma", "dbeta"];
  fused.forEach((values, i) => assertClose(values, formula[i], { rtol: 1e-5, atol: 1e-5, what: names[i] }));
});

Deno.test("fused batch norm on wasm equals cpu", async () => {
  await backendLoaders.wasm();
  const cpu = run(11);
  await useBackend("wasm");
  try {
    assertEquals(tf.getKernel(BATCH_NORM_TRAINING, "wasm") !== undefined, true);
    run(11).forEach((values, i) => assertClose(values, cpu[i], { rtol: 1e-5, atol: 1e-5, what: `output ${i}` }));
  } finally {
    await useBackend("cpu");
  }
});

Deno.test("fused batch norm leaves no tensors behind across repeated steps", async () => {
  run(1);
  await assertNoTensorLeak("10 batch-norm steps", () => {
    for (let i = 0; i < 10; i++) run(i);
  });
});
