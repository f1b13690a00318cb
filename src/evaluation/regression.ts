/**
 * Image-to-image regression metrics on voxel arrays: mse, rmse, mae, psnr and ssim. Computed in float64.
 *
 * @module
 */
import { stridesOf } from "./types.ts";

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`regression metrics: images have ${a.length} and ${b.length} voxels`);
}

/** Mean squared error, mean((seg − ref)²). */
export function meanSquaredError(seg: ArrayLike<number>, ref: ArrayLike<number>): number {
  checkSameLength(seg, ref);
  let sum = 0;
  for (let i = 0; i < seg.length; i++) sum += (seg[i] - ref[i]) ** 2;
  return sum / seg.length;
}

/** Mean absolute error, mean(|seg − ref|). */
export function meanAbsoluteError(seg: ArrayLike<number>, ref: ArrayLike<number>): number {
  checkSameLength(seg, ref);
  let sum = 0;
  for (let i = 0; i < seg.length; i++) sum += Math.abs(seg[i] - ref[i]);
  return sum / seg.length;
}

/** max(ref) − min(ref): the default data range of {@link psnr} and {@link ssim}. */
export function dataRangeOf(ref: ArrayLike<number>): number {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < ref.length; i++) {
    if (ref[i] < lo) lo = ref[i];
    if (ref[i] > hi) hi = ref[i];
  }
  return hi - lo;
}

/**
 * Peak signal-to-noise ratio in dB, 10·log10(R² / mse), as `skimage.metrics.peak_signal_noise_ratio` with
 * `data_range=R`; R defaults to max(ref) − min(ref). Identical images give +Infinity.
 */
export function psnr(
  seg: ArrayLike<number>,
  ref: ArrayLike<number>,
  { dataRange }: { dataRange?: number } = {},
): number {
  const range = dataRange ?? dataRangeOf(ref);
  return 10 * Math.log10((range * range) / meanSquaredError(seg, ref));
}

/** Means over every full `win`-wide window (valid region): shape shrinks by win − 1 per axis. */
function windowMeans(data: Float64Array, shape: number[], win: number): { data: Float64Array; shape: number[] } {
  let current = data, size = [...shape];
  for (let axis = 0; axis < size.length; axis++) {
    const next = [...size];
    next[axis] = size[axis] - win + 1;
    const out = new Float64Array(next.reduce((a, b) => a * b, 1));
    const inStrides = stridesOf(size), outStrides = stridesOf(next);
    const outer = size.slice(0, axis).reduce((a, b) => a * b, 1), inner = inStrides[axis];
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const src = o * size[axis] * inner + j, dst = o * next[axis] * inner + j;
        let sum = 0;
        for (let q = 0; q < win; q++) sum += current[src + q * inner];
        out[dst] = sum / win;
        for (let q = 1; q < next[axis]; q++) {
          sum += current[src + (q + win - 1) * inner] - current[src + (q - 1) * inner];
          out[dst + q * outStrides[axis]] = sum / win;
        }
      }
    }
    current = out;
    size = next;
  }
  return { data: current, shape: size };
}

/**
 * Mean structural similarity, exactly `skimage.metrics.structural_similarity(seg, ref, data_range=R)` with its
 * defaults: uniform 7-wide window over every axis (2D or 3D), K1 = 0.01, K2 = 0.03, sample covariance
 * (N / (N − 1)), averaged over the voxels whose window lies fully inside the image. R defaults to
 * max(ref) − min(ref). Every axis must be at least `winSize` long.
 */
export function ssim(
  seg: ArrayLike<number>,
  ref: ArrayLike<number>,
  shape: readonly number[],
  { dataRange, winSize = 7 }: { dataRange?: number; winSize?: number } = {},
): number {
  checkSameLength(seg, ref);
  if (shape.some((n) => n < winSize)) throw new Error(`ssim: every axis of [${shape}] must be at least ${winSize}`);
  const range = dataRange ?? dataRangeOf(ref);
  const n = seg.length;
  const x = Float64Array.from(seg), y = Float64Array.from(ref);
  const xx = new Float64Array(n), yy = new Float64Array(n), xy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
    xy[i] = x[i] * y[i];
  }
  const dims = [...shape];
  const [ux, uy, uxx, uyy, uxy] = [x, y, xx, yy, xy].map((a) => windowMeans(a, dims, winSize).data);
  const np = winSize ** shape.length, covNorm = np / (np - 1);
  const c1 = (0.01 * range) ** 2, c2 = (0.03 * range) ** 2;
  let total = 0;
  for (let i = 0; i < ux.length; i++) {
    const vx = covNorm * (uxx[i] - ux[i] * ux[i]);
    const vy = covNorm * (uyy[i] - uy[i] * uy[i]);
    const vxy = covNorm * (uxy[i] - ux[i] * uy[i]);
    total += ((2 * ux[i] * uy[i] + c1) * (2 * vxy + c2)) / ((ux[i] ** 2 + uy[i] ** 2 + c1) * (vx + vy + c2));
  }
  return total / ux.length;
}
