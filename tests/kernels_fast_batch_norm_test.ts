/**
 * The oneDNN training batch-norm kernels (src/kernels/fast/dnnl_batch_norm.ts) against the TypeScript kernels they
 * stand in for (src/kernels/batch_norm.ts, float64 accumulation, themselves checked against the op formula and
 * PyTorch in kernels_batch_norm_test.ts and layers_conv_block_test.ts) and against PyTorch directly
 * (tests/reference/kernels_fast_batch_norm.py): forward and backward, no activation, relu and prelu, 2D and 3D, odd
 * sizes; and their fallback to the TypeScript kernels.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, registerKernelFixes } from "../src/kernels/mod.ts";
import {
  type BatchNormActivation,
  batchNormTrainingGradHost,
  batchNormTrainingHost,
} from "../src/kernels/batch_norm.ts";
import {
  FAST_KERNELS_ENV,
  fastKernelCounts,
  fastKernelStatus,
  registerFastCpuKernels,
} from "../src/kernels/fast/mod.ts";
import { BatchNormPlanCache } from "../src/kernels/fast/dnnl_batch_norm.ts";
import { openDnnl } from "../src/kernels/fast/_dnnl_ffi.ts";
import { batchNormTraining } from "../layers/bn.ts";
import { assertClose, assertNoTensorLeak, loadFixture } from "./_util.ts";

await useBackend("cpu");
registerKernelFixes();
const active = registerFastCpuKernels().active;

/** Max |a − e| over max |e|: the error relative to the array's scale (float32 vs float64 sums). */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assertEquals(actual.length, expected.length);
  let diff = 0, scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / (scale || 1);
}

interface Case {
  shape: number[];
  activation: BatchNormActivation;
}

/** Runs both kernels of one case on the registered (cpu) kernels; returns their outputs and the TypeScript ones. */
function compare({ shape, activation }: Case, seed: number) {
  const c = shape[shape.length - 1];
  return tf.tidy(() => {
    const x = tf.randomNormal(shape, 1.5, 2, "float32", seed);
    const gamma = tf.randomNormal([c], 1, 0.3, "float32", seed + 1);
    const beta = tf.randomNormal([c], 0, 0.5, "float32", seed + 2);
    const alpha = tf.randomNormal([c], 0.1, 0.3, "float32", seed + 3);
    const dy = tf.randomNormal(shape, 0, 1, "float32", seed + 4);
    const engine = tf.engine();
    const extra = (activation === "none" ? {} : { beta }) as tf.NamedTensorMap;
    const inputs: tf.NamedTensorMap = activation === "prelu" ? { x, gamma, beta, alpha } : { x, gamma, beta };
    const fwd = engine.runKernel(BATCH_NORM_TRAINING, inputs, { eps: 1e-3, activation }) as tf.Tensor[];
    const [, mean, , rstd] = fwd;
    const bwd = engine.runKernel(BATCH_NORM_TRAINING_GRAD, {
      dy,
      x,
      mean,
      rstd,
      gamma,
      ...extra,
      ...(activation === "prelu" ? { alpha } : {}),
    }, { activation }) as tf.Tensor[];
    const [X, G, B, A, DY] = [x, gamma, beta, alpha, dy].map((t) => t.dataSync() as Float32Array);
    const ts = batchNormTrainingHost(X, G, B, 1e-3, activation, A);
    const tsGrad = batchNormTrainingGradHost(DY, X, ts.mean, ts.rstd, G, { activation, beta: B, alpha: A });
    const expected = [ts.y, ts.mean, ts.variance, ts.rstd, tsGrad.dx, tsGrad.dGamma, tsGrad.dBeta];
    if (tsGrad.dAlpha) expected.push(tsGrad.dAlpha);
    return { got: [...fwd, ...bwd].map((t) => t.dataSync() as Float32Array), expected };
  });
}

// channel counts oneDNN has JIT kernels for (multiples of 8; others go to the TypeScript kernels, tested below)
const cases: Case[] = [[2, 5, 6, 7, 8], [1, 9, 11, 13, 24], [3, 7, 5, 16], [1, 13, 11, 40]].flatMap((shape) =>
  (["none", "relu", "prelu"] as const).map((activation) => ({ shape, activation }))
);

for (const c of cases) {
  Deno.test({
    name: `oneDNN batch norm (${c.activation}, [${c.shape}]) equals the TypeScript kernels: y, mean, variance, rstd, ` +
      `dx, dgamma, dbeta${c.activation === "prelu" ? ", dalpha" : ""}`,
    ignore: !active,
    fn: () => {
      fastKernelCounts({ reset: true });
      const { got, expected } = compare(c, c.shape.length * 10 + c.shape[1]);
      const counts = fastKernelCounts();
      assertEquals(counts[BATCH_NORM_TRAINING], { fast: 1, fallback: 0 });
      assertEquals(counts[BATCH_NORM_TRAINING_GRAD], { fast: 1, fallback: 0 });
      const names = ["y", "mean", "variance", "rstd", "dx", "dgamma", "dbeta", "dalpha"];
      assertEquals(got.length, expected.length);
      got.forEach((values, i) => {
        const error = relativeError(values, expected[i]);
        assert(error <= 1e-5, `${names[i]}: relative error ${error}`);
      });
    },
  });
}

Deno.test({
  name: "oneDNN batch norm hands other ranks, and channel counts it has no JIT kernel for, to the TypeScript kernels",
  ignore: !active,
  fn: () => {
    for (const shape of [[6, 5], [4, 7, 3], [2, 5, 6, 7, 3], [1, 9, 11, 17]]) {
      fastKernelCounts({ reset: true });
      const { got, expected } = compare({ shape, activation: "prelu" }, 3);
      assertEquals(fastKernelCounts()[BATCH_NORM_TRAINING], { fast: 0, fallback: 1 });
      got.forEach((values, i) => assert(relativeError(values, expected[i]) === 0, `output ${i}`));
    }
  },
});

Deno.test("without oneDNN (missing library, or switched off) the batch-norm kernels are the TypeScript ones", () => {
  const warn = console.warn;
  console.warn = () => {};
  const before = Deno.env.get(FAST_KERNELS_ENV);
  try {
    for (
      const off of [() => registerFastCpuKernels({ library: "libniftyts_missing_dnnl.so" }), () => {
        Deno.env.set(FAST_KERNELS_ENV, "off");
        return registerFastCpuKernels();
      }]
    ) {
      assertEquals(off().active, false);
      fastKernelCounts({ reset: true });
      const { got, expected } = compare({ shape: [1, 5, 6, 7, 8], activation: "relu" }, 5);
      const counts = fastKernelCounts();
      assertEquals(counts[BATCH_NORM_TRAINING]?.fast ?? 0, 0);
      assertEquals(counts[BATCH_NORM_TRAINING_GRAD]?.fast ?? 0, 0);
      got.forEach((values, i) => assert(relativeError(values, expected[i]) === 0, `output ${i}`));
      if (before === undefined) Deno.env.delete(FAST_KERNELS_ENV);
      else Deno.env.set(FAST_KERNELS_ENV, before);
    }
  } finally {
    console.warn = warn;
    if (before === undefined) Deno.env.delete(FAST_KERNELS_ENV);
    else Deno.env.set(FAST_KERNELS_ENV, before);
    registerFastCpuKernels();
  }
  assertEquals(fastKernelStatus().active, active);
});

Deno.test("oneDNN batch norm + relu/prelu training steps leave the tensor count flat", async () => {
  const step = (seed: number) =>
    tf.tidy(() => {
      const x = tf.randomNormal([1, 6, 5, 7, 8], 0, 1, "float32", seed);
      const gamma = tf.ones([8]), beta = tf.zeros([8]), alpha = tf.fill([8], 0.2);
      const r = tf.randomNormal(x.shape, 0, 1, "float32", seed + 1);
      for (const options of [{}, { relu: true }, { alpha }]) {
        tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const { y, mean, variance } = batchNormTraining(a, g, b, 1e-5, options);
          tf.dispose([mean, variance]);
          return tf.sum(tf.mul(y, r));
        })([x, gamma, beta]);
      }
    });
  step(0);
  fastKernelCounts({ reset: true });
  await assertNoTensorLeak("10 batch-norm steps on oneDNN", () => {
    for (let i = 0; i < 10; i++) step(i);
  });
  if (active) assertEquals(fastKernelCounts()[BATCH_NORM_TRAINING_GRAD], { fast: 30, fallback: 0 });
});

Deno.test({
  name: "shapes for which oneDNN has no JIT batch norm (e.g. 4 or 10 channels) stay on the TypeScript kernel",
  ignore: !active,
  fn() {
    const cache = new BatchNormPlanCache(openDnnl());
    try {
      for (const channels of [3, 4, 10, 17, 16, 32]) {
        const spec = { batch: 2, channels, size: [9, 8, 7], activation: "relu" as const };
        for (const plan of [cache.forward(spec, 1e-5), cache.backward(spec)]) {
          assert(plan === null || plan.implementation.includes("jit"), `${channels} channels: ${plan?.implementation}`);
        }
      }
      // 16 and 32 channels are blocked by oneDNN's JIT kernels on any x86-64 with AVX2
      assert(cache.implementations().length > 0, "no oneDNN plan at all");
    } finally {
      cache.clear();
    }
  },
});

interface TorchCase {
  shape: number[];
  acti: BatchNormActivation;
  [k: string]: unknown;
}

const torchCases = loadFixture<{ cases: TorchCase[] }>("kernels_fast_batch_norm").cases;

Deno.test({
  name: "oneDNN batch norm (none, relu, prelu; 2D and 3D) through layers/bn.ts matches PyTorch: y, batch mean and " +
    "variance, dx, dgamma, dbeta, dalpha",
  ignore: !active,
  fn: () => {
    for (const c of torchCases) {
      const num = (k: string) => c[k] as number[];
      const channels = c.shape[c.shape.length - 1];
      fastKernelCounts({ reset: true });
      tf.tidy(() => {
        const x = tf.tensor(num("x"), c.shape), r = tf.tensor(num("r"), c.shape);
        const [gamma, beta, alpha] = ["gamma", "beta", "alpha"].map((k) => tf.tensor(num(k), [channels]));
        const options = c.acti === "relu" ? { relu: true } : c.acti === "prelu" ? { alpha } : {};
        const stats: tf.Tensor[] = [];
        const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, s: tf.Tensor) => {
          const { y, mean, variance } = batchNormTraining(a, g, b, 1e-5, c.acti === "prelu" ? { alpha: s } : options);
          stats.push(mean, variance);
          return tf.sum(tf.mul(y, r));
        };
        const { y, mean, variance } = batchNormTraining(x, gamma, beta, 1e-5, options);
        const grads = c.acti === "prelu"
          ? tf.grads(f)([x, gamma, beta, alpha])
          : tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => f(a, g, b, alpha))([x, gamma, beta]);
        tf.dispose(stats);
        const tol = { rtol: 1e-4, atol: 1e-5 };
        const what = `${c.acti} [${c.shape}]`;
        assertClose(y, num("y"), { ...tol, what: `${what} y` });
        assertClose(mean, num("mean"), { ...tol, what: `${what} mean` });
        assertClose(variance, num("variance"), { ...tol, what: `${what} variance` });
        ["grad_x", "grad_gamma", "grad_beta", "grad_alpha"].slice(0, grads.length).forEach((k, i) =>
          assertClose(grads[i], num(k), { ...tol, what: `${what} ${k}` })
        );
        tf.dispose([mean, variance]);
      });
      const counts = fastKernelCounts();
      assert(counts[BATCH_NORM_TRAINING].fast >= 2 && counts[BATCH_NORM_TRAINING].fallback === 0, c.acti);
      assertEquals(counts[BATCH_NORM_TRAINING_GRAD], { fast: 1, fallback: 0 });
    }
  },
});
