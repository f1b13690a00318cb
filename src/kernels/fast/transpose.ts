/**
 * Transpose and Reverse as one pass over the output with incrementally updated source offsets (tfjs-backend-cpu
 * converts every index to coordinates and back).
 *
 * @module
 */
import type { NumericArray } from "./slice.ts";

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  for (let i = shape.length - 1, s = 1; i >= 0; s *= shape[i], i--) strides[i] = s;
  return strides;
}

/**
 * Fills `out` (row-major, `outShape`) with `x[start + Σⱼ iⱼ·steps[j]]`: any permutation or reversal of axes. The
 * innermost axis is a block copy when its step is 1.
 */
export function stridedCopy<T extends NumericArray>(
  x: T,
  outShape: readonly number[],
  steps: readonly number[],
  start: number,
  out: T,
): T {
  const rank = outShape.length;
  if (rank === 0) {
    out[0] = x[start];
    return out;
  }
  const last = rank - 1, n = outShape[last], inner = steps[last];
  const rows = outShape.slice(0, last).reduce((p, v) => p * v, 1);
  if (n === 0 || rows === 0) return out;
  const index = new Array<number>(last).fill(0);
  let src = start;
  for (let r = 0, dst = 0; r < rows; r++, dst += n) {
    if (inner === 1) out.set(x.subarray(src, src + n), dst);
    else for (let j = 0, s = src; j < n; j++, s += inner) out[dst + j] = x[s];
    for (let i = last - 1; i >= 0; i--) {
      if (++index[i] < outShape[i]) {
        src += steps[i];
        break;
      }
      index[i] = 0;
      src -= (outShape[i] - 1) * steps[i];
    }
  }
  return out;
}

/** Output axis j is input axis `perm[j]`. */
export function transpose<T extends NumericArray>(x: T, shape: readonly number[], perm: readonly number[], out: T): T {
  const strides = stridesOf(shape);
  return stridedCopy(x, perm.map((p) => shape[p]), perm.map((p) => strides[p]), 0, out);
}

/** Reverses the listed axes. */
export function reverse<T extends NumericArray>(x: T, shape: readonly number[], axes: readonly number[], out: T): T {
  const strides = stridesOf(shape);
  const steps = strides.map((s, i) => (axes.includes(i) ? -s : s));
  const start = axes.reduce((p, a) => p + (shape[a] - 1) * strides[a], 0);
  return stridedCopy(x, shape, steps, start, out);
}
