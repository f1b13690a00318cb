/**
 * Private tensor helpers shared by the loss modules: NaN-free division and square root, label one-hot encoding and
 * parameter reading with clear errors.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { closestMatch } from "../util/suggest.ts";
import { backendHasKernel, SPARSE_SOFTMAX_XENT, SPARSE_SOFTMAX_XENT_GRAD } from "../kernels/mod.ts";

/** Loss parameters as NiftyNet's `loss_func_params` (snake_case keys). */
export type LossParams = Readonly<Record<string, number | string | boolean | readonly (readonly number[])[]>>;

/**
 * `predicate(x)` as a mask that the gradient tape treats as a constant. tfjs has no gradients for comparison ops,
 * so a comparison on a differentiated tensor must not be recorded: the forward of a custom-gradient op is not.
 */
export function constantMask(x: tf.Tensor, predicate: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  const forward = (input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input]);
    return { value: predicate(input), gradFunc: (_dy: tf.Tensor, saved: tf.Tensor[]) => tf.zerosLike(saved[0]) };
  };
  const op = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x);
}

/**
 * `num / den` where `den ≠ 0`, `fill` where `den = 0`. The denominator is replaced before dividing so that the
 * gradient of the masked branch is 0, not NaN (a plain `where` after `div` would back-propagate 0 · ∞).
 */
export function safeDivide(num: tf.Tensor, den: tf.Tensor, fill: number): tf.Tensor {
  const zero = constantMask(den, (d) => tf.equal(d, 0));
  const safeDen = tf.where(zero, tf.onesLike(den), den);
  return tf.where(zero, tf.fill(den.shape, fill), tf.div(num, safeDen));
}

/** `sqrt(x)` for x > 0 and 0 for x ≤ 0, with gradient 0 (not ∞ · 0 = NaN) where x ≤ 0. */
export function safeSqrt(x: tf.Tensor): tf.Tensor {
  const positive = constantMask(x, (v) => tf.greater(v, 0));
  return tf.where(positive, tf.sqrt(tf.where(positive, x, tf.onesLike(x))), tf.zerosLike(x));
}

/** One-hot float32 `[N, nClasses]` from labels `[N]` of any dtype (cast to int32 as NiftyNet's `tf.to_int64`). */
export function oneHot(labels: tf.Tensor, nClasses: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(tf.cast(labels, "int32") as tf.Tensor1D, nClasses), "float32") as tf.Tensor2D;
}

/**
 * Per-voxel softmax cross-entropy `−log softmax(logits)[label]`, shape `[N]`. On host-memory backends (cpu, wasm) it
 * runs as one fused kernel and gradient (src/kernels/softmax_xent.ts); elsewhere as the op formula.
 */
export function sparseSoftmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor): tf.Tensor1D {
  if (labels.size === logits.shape[0] && logits.dtype === "float32" && backendHasKernel(SPARSE_SOFTMAX_XENT)) {
    return fusedSparseSoftmaxCrossEntropy(logits, tf.reshape(labels, [labels.size]));
  }
  return sparseSoftmaxCrossEntropyFormula(logits, labels);
}

/** {@link sparseSoftmaxCrossEntropy} spelled in tfjs ops (any backend; the reference of the fused kernel). */
export function sparseSoftmaxCrossEntropyFormula(logits: tf.Tensor2D, labels: tf.Tensor): tf.Tensor1D {
  const nClasses = logits.shape[1];
  return tf.neg(tf.sum(tf.mul(oneHot(labels, nClasses), tf.logSoftmax(logits)), -1)) as tf.Tensor1D;
}

/** The fused kernels as one differentiable op; labels get a zero gradient (they are never trained). */
const fusedSparseSoftmaxCrossEntropy = tf.customGrad(
  ((logits: tf.Tensor, labels: tf.Tensor, save: tf.GradSaveFunc) => {
    const engine = tf.engine();
    const [loss, softmax] = engine.runKernel(SPARSE_SOFTMAX_XENT, { logits, labels }) as tf.Tensor[];
    save([softmax, labels]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [softmax, l] = saved;
        return [engine.runKernel(SPARSE_SOFTMAX_XENT_GRAD, { dy, softmax, labels: l }), tf.zerosLike(l)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
) as unknown as (logits: tf.Tensor2D, labels: tf.Tensor) => tf.Tensor1D;

/** Numerically stable sigmoid cross-entropy with logits: max(x, 0) − x·z + log(1 + exp(−|x|)). */
export function sigmoidCrossEntropy(logits: tf.Tensor, target: tf.Tensor | number): tf.Tensor {
  return tf.add(tf.sub(tf.relu(logits), tf.mul(logits, target)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
}

/** Reads a numeric parameter, or its default; a non-number gives an error naming the loss and the key. */
export function numberParam(params: LossParams, key: string, fallback: number, loss: string): number {
  const value = params[key];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`loss_type ${loss}: parameter "${key}" must be a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Rejects parameters a loss does not know, suggesting the closest known key. */
export function checkParams(params: LossParams, known: readonly string[], loss: string): void {
  for (const key of Object.keys(params)) {
    if (known.includes(key)) continue;
    const hint = closestMatch(key, known);
    const allowed = known.length ? known.join(", ") : "none";
    throw new Error(
      `loss_type ${loss}: unknown parameter "${key}"${hint ? `; did you mean "${hint}"?` : ""} (accepted: ${allowed})`,
    );
  }
}
