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

function denseStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  for (let i = shape.length - 1, s = 1; i >= 0; s *= shape[i], i--) strides[i] = s;
  return strides;
}

/**
 * `box` with axes of length 1 dropped and neighbouring axes that are contiguous in both arrays merged: the same copy
 * in as few axes as possible (oneDNN picks faster reorders for long contiguous runs).
 */
export function coalesceBox(box: StridedBox): StridedBox {
  const dims: number[] = [], src: number[] = [], dst: number[] = [];
  box.dims.forEach((n, i) => {
    if (n === 1) return;
    const last = dims.length - 1;
    if (last >= 0 && src[last] === n * box.srcStrides[i] && dst[last] === n * box.dstStrides[i]) {
      dims[last] *= n;
      src[last] = box.srcStrides[i];
      dst[last] = box.dstStrides[i];
    } else {
      dims.push(n);
      src.push(box.srcStrides[i]);
      dst.push(box.dstStrides[i]);
    }
  });
  if (dims.length === 0) return { ...box, dims: [1], srcStrides: [1], dstStrides: [1] };
  return { dims, srcOffset: box.srcOffset, srcStrides: src, dstOffset: box.dstOffset, dstStrides: dst };
}

/** The box that copies the block `[begin, begin + size)` of a row-major array of `shape` into a dense `size` array. */
export function sliceBox(shape: readonly number[], begin: readonly number[], size: readonly number[]): StridedBox {
  const strides = denseStrides(shape);
  return coalesceBox({
    dims: size,
    srcOffset: begin.reduce((p, b, i) => p + b * strides[i], 0),
    srcStrides: strides,
    dstOffset: 0,
    dstStrides: denseStrides(size),
  });
}

/** The box that writes a dense array of `shape` into a row-major array of `outShape` at offset `begin` per axis. */
export function placeBox(shape: readonly number[], outShape: readonly number[], begin: readonly number[]): StridedBox {
  const strides = denseStrides(outShape);
  return coalesceBox({
    dims: shape,
    srcOffset: 0,
    srcStrides: denseStrides(shape),
    dstOffset: begin.reduce((p, b, i) => p + b * strides[i], 0),
    dstStrides: strides,
  });
}
