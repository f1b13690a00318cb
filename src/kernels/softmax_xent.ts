/**
 * Fused sparse softmax cross-entropy for host-memory backends (cpu, wasm): per voxel `−log softmax(logits)[label]`
 * in one pass over the logits, and its gradient `dy·(softmax − onehot(label))` in one more. The op formula
 * (`oneHot`, `logSoftmax`, `mul`, `sum`, `neg` and their gradients) makes about ten passes and six full-size
 * temporaries; on the ToyNet demo step it took half the kernel time.
 *
 * Semantics follow the formula exactly: labels are cast to int32 as `tf.cast` does (truncation, NaN → 0); a label
 * outside `[0, C)` selects no class (tf.oneHot's all-zero row), so its loss and gradient are 0. The forward pass also
 * returns the softmax, which is all the backward pass needs (so the logits need not be kept). Accumulation in float64.
 *
 * @module
 */
import type { tf } from "../deps.ts";
import { kernelInput, readFloat32, writeOutput } from "./_util.ts";

/** Kernel names (ours; tfjs has no fused sparse cross-entropy). */
export const SPARSE_SOFTMAX_XENT = "NiftySparseSoftmaxXent";
export const SPARSE_SOFTMAX_XENT_GRAD = "NiftySparseSoftmaxXentGrad";

/** Labels of any numeric dtype as the class index `tf.cast(labels, "int32")` gives. */
function classIndices(labels: ArrayLike<number>): Int32Array {
  return labels instanceof Int32Array ? labels : Int32Array.from(labels as ArrayLike<number>, (v) => v | 0);
}

/** Forward on host arrays: logits `[N, C]` row-major, labels `[N]`; returns loss `[N]` and softmax `[N, C]`. */
export function sparseSoftmaxXentHost(
  logits: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
): { loss: Float32Array; softmax: Float32Array } {
  const n = logits.length / classes, index = classIndices(labels);
  const loss = new Float32Array(n), softmax = new Float32Array(logits.length);
  const e = new Float64Array(classes);
  for (let v = 0, row = 0; v < n; v++, row += classes) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) if (logits[row + c] > max) max = logits[row + c];
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += e[c] = Math.exp(logits[row + c] - max);
    for (let c = 0; c < classes; c++) softmax[row + c] = e[c] / sum;
    const k = index[v];
    loss[v] = k >= 0 && k < classes ? Math.log(sum) + max - logits[row + k] : 0;
  }
  return { loss, softmax };
}

/** Backward on host arrays: `dlogits[v, c] = dy[v]·(softmax[v, c] − [c = label[v]])` (0 where no class is selected). */
export function sparseSoftmaxXentGradHost(
  dy: Float32Array,
  softmax: Float32Array,
  labels: ArrayLike<number>,
): Float32Array {
  const n = dy.length, classes = softmax.length / n, index = classIndices(labels);
  const dLogits = new Float32Array(softmax.length);
  for (let v = 0, row = 0; v < n; v++, row += classes) {
    const g = dy[v], k = index[v];
    if (!(k >= 0 && k < classes)) continue;
    for (let c = 0; c < classes; c++) dLogits[row + c] = g * softmax[row + c];
    dLogits[row + k] -= g;
  }
  return dLogits;
}

/** Reads a kernel input of any numeric dtype (labels may be int32 or float32). */
function readNumbers(backend: tf.KernelBackend, info: tf.TensorInfo): ArrayLike<number> {
  return backend.readSync(info.dataId) as unknown as ArrayLike<number>;
}

/** The forward kernel: inputs logits `[N, C]` (float32), labels `[N]`; outputs [loss `[N]`, softmax `[N, C]`]. */
export function sparseSoftmaxXentConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: SPARSE_SOFTMAX_XENT,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const be = backend as tf.KernelBackend;
      const logits = kernelInput(inputs, "logits", SPARSE_SOFTMAX_XENT);
      const labels = kernelInput(inputs, "labels", SPARSE_SOFTMAX_XENT);
      const [n, classes] = logits.shape;
      const r = sparseSoftmaxXentHost(readFloat32(be, logits, "logits"), readNumbers(be, labels), classes);
      return [writeOutput(be, r.loss, [n]), writeOutput(be, r.softmax, [n, classes])];
    },
  };
}

/** The backward kernel: inputs dy `[N]`, softmax `[N, C]`, labels `[N]`; output dLogits `[N, C]`. */
export function sparseSoftmaxXentGradConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: SPARSE_SOFTMAX_XENT_GRAD,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const be = backend as tf.KernelBackend;
      const input = (name: string) => kernelInput(inputs, name, SPARSE_SOFTMAX_XENT_GRAD);
      const softmax = input("softmax");
      const d = sparseSoftmaxXentGradHost(
        readFloat32(be, input("dy"), "dy"),
        readFloat32(be, softmax, "softmax"),
        readNumbers(be, input("labels")),
      );
      return writeOutput(be, d, [...softmax.shape]);
    },
  };
}
