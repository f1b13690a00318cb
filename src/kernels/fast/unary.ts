/**
 * Float32 Relu, Step (ReLU's gradient mask) and last-axis Softmax as straight loops: tfjs-backend-cpu calls a
 * closure per element (and builds five intermediate tensors for a softmax). Same values as the stock kernels, NaN
 * propagating.
 *
 * @module
 */

/** max(0, x), NaN staying NaN (as `Math.max(0, x)`). */
export function relu(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = v > 0 ? v : v !== v ? v : 0;
  }
  return out;
}

/** 1 where x > 0, `alpha` elsewhere, NaN where x is NaN. */
export function step(x: Float32Array, alpha: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = v > 0 ? 1 : v !== v ? v : alpha;
  }
  return out;
}

/**
 * Softmax over the last axis (rows of `n`), rounding to float32 after each step exactly as tfjs-backend-cpu's
 * max → sub → exp → sum → div chain does, without its five intermediate tensors.
 */
export function softmaxLastAxis(x: Float32Array, n: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let base = 0; base < x.length; base += n) {
    let max = x[base];
    for (let j = 0; j < n; j++) {
      const v = x[base + j];
      if (v !== v || v > max) max = v; // NaN wins, as in the stock Max kernel
    }
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.fround(Math.exp(Math.fround(x[base + j] - max)));
      out[base + j] = e;
      sum += e;
    }
    const total = Math.fround(sum);
    for (let j = 0; j < n; j++) out[base + j] = out[base + j] / total;
  }
  return out;
}
