/**
 * Strided boxes: a block read from a strided view of one array and written to a strided view of another (phase
 * gathers, channel slices, padding). {@link copyBox} is the TypeScript copy; `DnnlPasses.copy` runs the same boxes as
 * multi-threaded oneDNN reorders.
 *
 * @module
 */

/** One box copied from a strided view of a source into a strided view of a destination (offsets, strides: elements). */
export interface StridedBox {
  readonly dims: readonly number[];
  readonly srcOffset: number;
  readonly srcStrides: readonly number[];
  readonly dstOffset: number;
  readonly dstStrides: readonly number[];
}

/** Copies `box` from `src` into `dst` in TypeScript (the reference and fallback of `DnnlPasses.copy`). */
export function copyBox(src: Float32Array, dst: Float32Array, box: StridedBox): void {
  const { dims, srcStrides, dstStrides } = box;
  const rank = dims.length;
  if (dims.some((n) => n <= 0)) return;
  const last = rank - 1, n = dims[last], ss = srcStrides[last], ds = dstStrides[last];
  const index = new Array<number>(rank).fill(0);
  let s = box.srcOffset, d = box.dstOffset;
  const rows = dims.slice(0, last).reduce((p, v) => p * v, 1);
  for (let r = 0; r < rows; r++) {
    if (ss === 1 && ds === 1) dst.set(src.subarray(s, s + n), d);
    else for (let j = 0; j < n; j++) dst[d + j * ds] = src[s + j * ss];
    for (let i = last - 1; i >= 0; i--) {
      if (++index[i] < dims[i]) {
        s += srcStrides[i];
        d += dstStrides[i];
        break;
      }
      index[i] = 0;
      s -= (dims[i] - 1) * srcStrides[i];
      d -= (dims[i] - 1) * dstStrides[i];
    }
  }
}
