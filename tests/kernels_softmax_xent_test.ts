// The fused sparse softmax cross-entropy kernels against the op formula they replace. Their values and gradients
// against PyTorch are checked by losses_segmentation_test.ts (CrossEntropy runs through them on cpu).
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { backendLoaders, tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { SPARSE_SOFTMAX_XENT, SPARSE_SOFTMAX_XENT_GRAD } from "../src/kernels/mod.ts";
import { sparseSoftmaxCrossEntropy, sparseSoftmaxCrossEntropyFormula } from "../src/losses/_util.ts";
import { assertClose, assertNoTensorLeak } from "./_util.ts";

await useBackend("cpu");

/** Per-voxel loss and the gradient of Σ loss·r w.r.t. the logits, by `xent`. */
function lossAndGrad(
  xent: typeof sparseSoftmaxCrossEntropy,
  logits: tf.Tensor2D,
  labels: tf.Tensor,
): { loss: Float32Array; grad: Float32Array } {
  return tf.tidy(() => {
    const r = tf.randomUniform([logits.shape[0]], 0.5, 2, "float32", 7);
    const loss = xent(logits, labels).dataSync() as Float32Array;
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(xent(x as tf.Tensor2D, labels), r)))(logits);
    return { loss, grad: grad.dataSync() as Float32Array };
  });
}

/** Labels for `n` voxels of `classes` classes, with out-of-range ones (−1, C) where `outOfRange`. */
function labelsFor(n: number, classes: number, dtype: "int32" | "float32", outOfRange = false): tf.Tensor1D {
  const values = Array.from({ length: n }, (_, i) => (i * 7 + 3) % classes);
  if (outOfRange) values[1] = -1, values[n - 2] = classes;
  if (dtype === "float32") return tf.tensor1d(values.map((v) => v + 0.25), "float32"); // cast truncates
  return tf.tensor1d(values, "int32");
}

function assertFusedEqualsFormula(logits: tf.Tensor2D, labels: tf.Tensor, what: string): void {
  const fused = lossAndGrad(sparseSoftmaxCrossEntropy, logits, labels);
  const formula = lossAndGrad(sparseSoftmaxCrossEntropyFormula, logits, labels);
  assertClose(fused.loss, formula.loss, { atol: 2e-6, rtol: 2e-6, what: `${what} loss` });
  // the formula's float32 softmax − 1 loses ~1e-7 absolute where p → 1; the kernel works in float64
  assertClose(fused.grad, formula.grad, { atol: 1e-6, rtol: 2e-6, what: `${what} gradient` });
}

Deno.test("fused sparse cross-entropy runs its own kernels on cpu (forward and gradient)", async () => {
  const logits = tf.randomNormal([6, 3], 0, 1, "float32", 1) as tf.Tensor2D, labels = labelsFor(6, 3, "int32");
  const info = await tf.profile(() => {
    tf.dispose(tf.grad((x: tf.Tensor) => tf.sum(sparseSoftmaxCrossEntropy(x as tf.Tensor2D, labels)))(logits));
  });
  const names = info.kernels.map((k) => k.name);
  assertEquals([names.includes(SPARSE_SOFTMAX_XENT), names.includes(SPARSE_SOFTMAX_XENT_GRAD)], [true, true]);
  assertEquals(names.includes("LogSoftmax") || names.includes("OneHot"), false);
  tf.dispose([logits, labels]);
});

for (const classes of [2, 3, 5, 9]) {
  Deno.test(`fused sparse cross-entropy equals the op formula: ${classes} classes, int32 and float32 labels, labels out of range`, () => {
    const logits = tf.randomNormal([37, classes], 0, 3, "float32", classes) as tf.Tensor2D;
    for (const dtype of ["int32", "float32"] as const) {
      for (const outOfRange of [false, true]) {
        const labels = labelsFor(37, classes, dtype, outOfRange);
        assertFusedEqualsFormula(logits, labels, `${classes} classes, ${dtype} labels, out of range ${outOfRange}`);
        labels.dispose();
      }
    }
    logits.dispose();
  });
}

Deno.test("fused sparse cross-entropy stays finite and exact for logits of ±80 (stable log-sum-exp)", () => {
  const logits = tf.tensor2d([[80, -80, 0], [-80, -80, -80], [80, 80, -80]]);
  const labels = tf.tensor1d([1, 2, 0], "int32");
  const { loss, grad } = lossAndGrad(sparseSoftmaxCrossEntropy, logits, labels);
  assertClose(loss, [160, Math.log(3), Math.log(2)], { atol: 1e-5, what: "loss" });
  assertEquals([...loss, ...grad].every(Number.isFinite), true);
  tf.dispose([logits, labels]);
});

Deno.test("fused sparse cross-entropy on wasm equals cpu", async () => {
  const logits = tf.randomNormal([50, 4], 0, 2, "float32", 3) as tf.Tensor2D, labels = labelsFor(50, 4, "int32", true);
  const cpu = lossAndGrad(sparseSoftmaxCrossEntropy, logits, labels);
  const [l, y] = [logits.arraySync(), labels.arraySync()];
  tf.dispose([logits, labels]);
  await backendLoaders.wasm();
  await useBackend("wasm");
  try {
    assertEquals(tf.getKernel(SPARSE_SOFTMAX_XENT, "wasm") !== undefined, true);
    const [wl, wy] = [tf.tensor2d(l), tf.tensor1d(y, "int32")];
    const wasm = lossAndGrad(sparseSoftmaxCrossEntropy, wl, wy);
    tf.dispose([wl, wy]);
    assertClose(wasm.loss, cpu.loss, { atol: 1e-6, what: "wasm loss" });
    assertClose(wasm.grad, cpu.grad, { atol: 1e-6, what: "wasm gradient" });
  } finally {
    await useBackend("cpu");
  }
});

Deno.test("fused sparse cross-entropy leaves no tensors behind across repeated steps", async () => {
  const logits = tf.variable(tf.randomNormal([40, 3], 0, 1, "float32", 5), true, "xent_logits");
  const labels = labelsFor(40, 3, "int32");
  await assertNoTensorLeak("10 cross-entropy steps", () => {
    for (let i = 0; i < 10; i++) {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(sparseSoftmaxCrossEntropy(logits as tf.Tensor2D, labels)) as tf.Scalar,
        [logits],
      );
      tf.dispose([value, ...Object.values(grads)]);
    }
  });
  tf.dispose([logits, labels]);
});
