/**
 * Slice and SplitV as copies of contiguous runs. tfjs-backend-cpu slices a non-contiguous block (e.g. a channel
 * range of a volume, which is what the gradient of `tf.concat` along channels does) element by element through
 * coordinate conversions, about 100× slower; contiguous slices it already shares, so those stay with it.
 *
 * @module
 */

/** Runs shorter than this are copied element by element: a subarray + set per run costs more (channel rows). */
const SHORT_RUN = 64;

/** The numeric typed arrays tfjs keeps tensors in. */
export type NumericArray = Float32Array | Int32Array | Uint8Array;

/** Copies the block `[begin, begin + size)` of a row-major array of `shape` into `out` (length = block size). */
export function copyBlock<T extends NumericArray>(
  x: T,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  out: T,
): T {
  const rank = shape.length;
  // k: the last axis not taken whole; everything after it is contiguous, so each run is size[k]·stride[k] long
  let k = rank - 1;
  while (k > 0 && size[k] === shape[k] && begin[k] === 0) k--;
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; s *= shape[i], i--) strides[i] = s;
  const run = (rank === 0 ? 1 : size[k]) * (rank === 0 ? 1 : strides[k]);
  const runs = size.slice(0, k).reduce((p, n) => p * n, 1);
  if (run === 0 || runs === 0) return out;
  const index = new Array<number>(k).fill(0);
  let src = begin.reduce((p, b, i) => p + b * strides[i], 0);
  const short = run < SHORT_RUN;
  for (let r = 0, dst = 0; r < runs; r++, dst += run) {
    if (short) { for (let j = 0; j < run; j++) out[dst + j] = x[src + j]; }
    else out.set(x.subarray(src, src + run), dst);
    // advance the odometer over axes k−1 … 0
    for (let i = k - 1; i >= 0; i--) {
      if (++index[i] < size[i]) {
        src += strides[i];
        break;
      }
      index[i] = 0;
      src -= (size[i] - 1) * strides[i];
    }
  }
  return out;
}

/** True when the block is one contiguous range of the array (tfjs shares those without copying). */
export function isContiguousBlock(
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
): boolean {
  let k = shape.length - 1;
  while (k > 0 && size[k] === shape[k] && begin[k] === 0) k--;
  return size.slice(0, k).every((n) => n === 1);
}

/** Sizes of the parts of SplitV: `n` equal parts, or the given sizes with one −1 taking the rest. */
export function splitSizes(length: number, numOrSizeSplits: number | number[]): number[] | null {
  if (typeof numOrSizeSplits === "number") {
    if (!Number.isInteger(numOrSizeSplits) || numOrSizeSplits < 1 || length % numOrSizeSplits !== 0) return null;
    return new Array(numOrSizeSplits).fill(length / numOrSizeSplits);
  }
  const free = numOrSizeSplits.filter((s) => s === -1).length;
  if (free > 1) return null;
  const known = numOrSizeSplits.reduce((p, s) => (s === -1 ? p : p + s), 0);
  const sizes = numOrSizeSplits.map((s) => (s === -1 ? length - known : s));
  if (sizes.some((s) => !Number.isInteger(s) || s < 0) || sizes.reduce((p, s) => p + s, 0) !== length) return null;
  return sizes;
}

/** Writes `x` (of `shape`) into `out` (of `outShape`) at offset `begin` per axis: the inverse of copyBlock. */
export function placeBlock<T extends NumericArray>(
  x: T,
  shape: readonly number[],
  out: T,
  outShape: readonly number[],
  begin: readonly number[],
): T {
  const rank = shape.length;
  let k = rank - 1;
  while (k > 0 && shape[k] === outShape[k] && begin[k] === 0) k--;
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; s *= outShape[i], i--) strides[i] = s;
  const run = shape[k] * strides[k];
  const runs = shape.slice(0, k).reduce((p, n) => p * n, 1);
  if (run === 0 || runs === 0) return out;
  const index = new Array<number>(k).fill(0);
  let dst = begin.reduce((p, b, i) => p + b * strides[i], 0);
  const short = run < SHORT_RUN;
  for (let r = 0, src = 0; r < runs; r++, src += run) {
    if (short) { for (let j = 0; j < run; j++) out[dst + j] = x[src + j]; }
    else out.set(x.subarray(src, src + run), dst);
    for (let i = k - 1; i >= 0; i--) {
      if (++index[i] < shape[i]) {
        dst += strides[i];
        break;
      }
      index[i] = 0;
      dst -= (shape[i] - 1) * strides[i];
    }
  }
  return out;
}
