/**
 * Float32 Sum and Mean over a block of adjacent axes (batch-norm moments and the gradients of broadcast ops reduce
 * every axis but channels) without tfjs-backend-cpu's transpose to put the reduced axes last. Accumulates in
 * doubles in the same order as the stock kernel (row-major over the reduced axes); Mean divides each value first,
 * as the stock kernel does, so results are bit-identical.
 *
 * @module
 */

/** Loop structure of a reduction: `out[o·inner + j] = Σₘ x[(o·mid + m)·inner + j]`. */
export interface ReducePlan {
  outShape: number[];
  outer: number;
  mid: number;
  inner: number;
}

/**
 * Plans the reduction of `shape` over `axis` (tfjs semantics: a number, a list, negative from the end, absent for
 * all axes); null when the reduced axes are not adjacent or repeat.
 */
export function planReduce(
  shape: readonly number[],
  axis: number | number[] | null | undefined,
  keepDims: boolean,
): ReducePlan | null {
  const rank = shape.length;
  const raw = axis === null || axis === undefined ? [...shape.keys()] : typeof axis === "number" ? [axis] : axis;
  const axes = raw.map((a) => (a < 0 ? a + rank : a)).sort((x, y) => x - y);
  if (axes.some((a, i) => !Number.isInteger(a) || a < 0 || a >= rank || (i > 0 && a === axes[i - 1]))) return null;
  if (axes.length === 0 || axes[axes.length - 1] - axes[0] !== axes.length - 1) return null;
  const first = axes[0], last = axes[axes.length - 1];
  const prod = (from: number, to: number) => shape.slice(from, to).reduce((p, n) => p * n, 1);
  const outShape = keepDims
    ? shape.map((n, i) => (i >= first && i <= last ? 1 : n))
    : shape.filter((_, i) => i < first || i > last);
  return { outShape, outer: prod(0, first), mid: prod(first, last + 1), inner: prod(last + 1, rank) };
}

/** Sum (or mean, dividing each value by the reduced count first) along the plan. */
export function runReduce(plan: ReducePlan, x: Float32Array, { mean = false }: { mean?: boolean } = {}): Float32Array {
  const { outer, mid, inner } = plan;
  const out = new Float32Array(outer * inner);
  const n = Math.fround(mid);
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      const base = o * mid;
      if (mean) { for (let m = 0; m < mid; m++) s += Math.fround(x[base + m] / n); }
      else for (let m = 0; m < mid; m++) s += x[base + m];
      out[o] = s;
    }
    return out;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let m = 0; m < mid; m++) {
      const base = (o * mid + m) * inner;
      if (mean) { for (let j = 0; j < inner; j++) acc[j] += Math.fround(x[base + j] / n); }
      else for (let j = 0; j < inner; j++) acc[j] += x[base + j];
    }
    out.set(acc, o * inner);
  }
  return out;
}
