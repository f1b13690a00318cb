import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { backendLoaders, tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from "../src/kernels/mod.ts";
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
  // the registered ones (on cpu, the oneDNN kernels over the TypeScript ones) come back as they were
  const fused = [BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD].map((name) => tf.getKernel(name, backend)!);
  fused.forEach((k) => tf.unregisterKernel(k.kernelName, backend));
  try {
    return fn();
  } finally {
    fused.forEach((k) => tf.registerKernel(k));
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

/**
 * Output and the gradients (x, gamma, beta, and alpha for prelu) of sum(act(bn(x))·r): through the fused op, or
 * through the separate batch-norm op and tfjs's own relu / NiftyNet's prelu formula.
 */
function runActivated(seed: number, acti: "relu" | "prelu", fused: boolean): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.randomNormal([2, 5, 6, 7, 3], 1.5, 2, "float32", seed);
    const gamma = tf.randomNormal([3], 1, 0.2, "float32", seed + 1);
    const beta = tf.randomNormal([3], 0, 0.5, "float32", seed + 2);
    const alpha = tf.randomNormal([3], 0.1, 0.3, "float32", seed + 3);
    const r = tf.randomNormal(x.shape, 0, 1, "float32", seed + 4);
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, s: tf.Tensor) => {
      let out: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor;
      if (fused) {
        ({ y: out, mean, variance } = batchNormTraining(
          a,
          g,
          b,
          1e-5,
          acti === "relu" ? { relu: true } : { alpha: s },
        ));
      } else {
        const bn = batchNormTraining(a, g, b, 1e-5);
        ({ mean, variance } = bn);
        out = acti === "relu"
          ? tf.relu(bn.y)
          : tf.add(tf.relu(bn.y), tf.mul(s, tf.mul(0.5, tf.sub(bn.y, tf.abs(bn.y)))));
      }
      tf.dispose([mean, variance]);
      return tf.sum(tf.mul(out, r));
    };
    const value = f(x, gamma, beta, alpha);
    const grads = acti === "prelu"
      ? tf.grads(f)([x, gamma, beta, alpha])
      : tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => f(a, g, b, alpha))([x, gamma, beta]);
    return [value, ...grads].map((t) => t.dataSync().slice() as Float32Array);
  }) as unknown as Float32Array[];
}

for (const acti of ["relu", "prelu"] as const) {
  Deno.test(`fused batch norm + ${acti} equals batch norm then tfjs's ${acti}: output, dx, dgamma, dbeta (, dalpha) (cpu)`, () => {
    const fused = runActivated(3, acti, true), separate = runActivated(3, acti, false);
    assertEquals(fused.length, acti === "relu" ? 4 : 5);
    ["loss", "dx", "dgamma", "dbeta", "dalpha"].slice(0, fused.length).forEach((what, i) =>
      assertClose(fused[i], separate[i], { rtol: 1e-5, atol: 1e-5, what })
    );
  });
}

Deno.test("fused batch norm + prelu on wasm equals cpu", async () => {
  await backendLoaders.wasm();
  const cpu = runActivated(5, "prelu", true);
  await useBackend("wasm");
  try {
    runActivated(5, "prelu", true).forEach((values, i) =>
      assertClose(values, cpu[i], { rtol: 1e-5, atol: 1e-5, what: `output ${i}` })
    );
  } finally {
    await useBackend("cpu");
  }
});

Deno.test("fused batch norm + relu/prelu leaves no tensors behind across repeated steps", async () => {
  runActivated(1, "prelu", true);
  await assertNoTensorLeak("10 fused batch-norm + activation steps", () => {
    for (let i = 0; i < 5; i++) {
      runActivated(i, "relu", true);
      runActivated(i, "prelu", true);
    }
  });
});
