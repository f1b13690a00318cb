/**
 * Intensity augmentations for image roles (labels untouched): NiftyNet's random bias field (`bias_field_range`,
 * `bf_order`), and the MONAI/TorchIO extras Gaussian noise, gamma (contrast) and Gaussian blur.
 *
 * @module
 */
import type { ChannelVolume, Spatial3 } from "../types.ts";
import { spatialSize } from "../types.ts";
import { makeRandom, type RandomStream, randomUniform } from "../_random.ts";

/**
 * A multiplicative bias field `exp(Σ c_ijk · xⁱ yʲ zᵏ)` over all `i + j + k ≤ order`, with coordinates scaled to
 * [−1, 1] along each axis (z = 0 for 2D). `coefficients` in the order of the loops z-power, y-power, x-power.
 */
export function biasField(shape: Spatial3, coefficients: readonly number[], order: number): Float32Array {
  const terms: [number, number, number][] = [];
  for (let i = 0; i <= order; i++) {
    for (let j = 0; j <= order - i; j++) for (let k = 0; k <= order - i - j; k++) terms.push([i, j, k]);
  }
  if (coefficients.length !== terms.length) {
    throw new Error(`bias field of order ${order} needs ${terms.length} coefficients, got ${coefficients.length}`);
  }
  const norm = (v: number, n: number) => (n > 1 ? (2 * v) / (n - 1) - 1 : 0);
  const out = new Float32Array(spatialSize(shape));
  let p = 0;
  for (let z = 0; z < shape[2]; z++) {
    const cz = norm(z, shape[2]);
    for (let y = 0; y < shape[1]; y++) {
      const cy = norm(y, shape[1]);
      for (let x = 0; x < shape[0]; x++, p++) {
        const cx = norm(x, shape[0]);
        let s = 0;
        terms.forEach(([i, j, k], t) => (s += coefficients[t] * cx ** i * cy ** j * cz ** k));
        out[p] = Math.exp(s);
      }
    }
  }
  return out;
}

/** Multiplies every channel by a random bias field (INI `bias_field_range`, `bf_order` default 3). */
export function randomBiasField(
  volume: ChannelVolume,
  options: { biasFieldRange: readonly number[]; bfOrder?: number; seed?: number | RandomStream },
): ChannelVolume {
  const order = options.bfOrder ?? 3;
  const rng = makeRandom(options.seed);
  const nTerms = ((order + 1) * (order + 2) * (order + 3)) / 6;
  const [lo, hi] = options.biasFieldRange;
  const coeffs = Array.from({ length: nTerms }, () => randomUniform(rng, lo, hi));
  const field = biasField(volume.shape, coeffs, order);
  const n = field.length;
  return { ...volume, data: volume.data.map((v, i) => v * field[i % n]) };
}

/** Adds normal noise with a standard deviation drawn uniformly from `std` = `[min, max]` (or fixed). */
export function gaussianNoise(
  volume: ChannelVolume,
  options: { std: number | readonly number[]; mean?: number; seed?: number | RandomStream },
): ChannelVolume {
  const rng = makeRandom(options.seed);
  const s = typeof options.std === "number" ? options.std : randomUniform(rng, options.std[0], options.std[1]);
  const m = options.mean ?? 0;
  return { ...volume, data: volume.data.map((v) => v + m + s * rng.normal()) };
}

/**
 * Gamma (contrast) per channel, as MONAI's `AdjustContrast`: values rescaled to [0, 1] by the channel's min/max,
 * raised to γ = exp(u) with u uniform in `logGammaRange`, then mapped back to the original range.
 */
export function randomGamma(
  volume: ChannelVolume,
  options: { logGammaRange: readonly number[]; seed?: number | RandomStream },
): ChannelVolume {
  const rng = makeRandom(options.seed);
  const gamma = Math.exp(randomUniform(rng, options.logGammaRange[0], options.logGammaRange[1]));
  const n = spatialSize(volume.shape);
  const out = new Float32Array(volume.data.length);
  for (let c = 0; c < volume.channels; c++) {
    const ch = volume.data.subarray(c * n, (c + 1) * n);
    let lo = Infinity, hi = -Infinity;
    for (const v of ch) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const range = hi - lo || 1;
    for (let i = 0; i < n; i++) out[c * n + i] = Math.pow((ch[i] - lo) / range, gamma) * range + lo;
  }
  return { ...volume, data: out };
}

/** Separable Gaussian blur with σ per axis in voxels, `scipy.ndimage.gaussian_filter` (truncate 4, mode reflect). */
export function gaussianBlur(volume: ChannelVolume, sigma: readonly [number, number, number]): ChannelVolume {
  const s = volume.shape;
  const n = spatialSize(s);
  const data = Float64Array.from(volume.data);
  const strides = [1, s[0], s[0] * s[1]];
  for (let axis = 0; axis < 3; axis++) {
    const sg = sigma[axis];
    if (!(sg > 0) || s[axis] === 1) continue;
    const r = Math.floor(4 * sg + 0.5);
    const k = Float64Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-0.5 * ((i - r) / sg) ** 2));
    const ks = k.reduce((a, b) => a + b, 0);
    k.forEach((v, i) => (k[i] = v / ks));
    const len = s[axis], stride = strides[axis];
    const line = new Float64Array(len);
    // "reflect" (half-sample symmetric): index -1 reads 0, index n reads n − 1.
    const at = (i: number) => {
      const p = 2 * len;
      let m = i % p;
      if (m < 0) m += p;
      return line[m < len ? m : p - 1 - m];
    };
    const others = [0, 1, 2].filter((d) => d !== axis);
    for (let c = 0; c < volume.channels; c++) {
      for (let b = 0; b < s[others[1]]; b++) {
        for (let a = 0; a < s[others[0]]; a++) {
          const base = c * n + a * strides[others[0]] + b * strides[others[1]];
          for (let i = 0; i < len; i++) line[i] = data[base + i * stride];
          for (let i = 0; i < len; i++) {
            let acc = 0;
            for (let t = -r; t <= r; t++) acc += k[t + r] * at(i + t);
            data[base + i * stride] = acc;
          }
        }
      }
    }
  }
  return { ...volume, data: Float32Array.from(data) };
}

/** Blurs with σ drawn uniformly from `sigmaRange` (voxels, same for every axis; z untouched in 2D). */
export function randomBlur(
  volume: ChannelVolume,
  options: { sigmaRange: readonly number[]; seed?: number | RandomStream },
): ChannelVolume {
  const sg = randomUniform(makeRandom(options.seed), options.sigmaRange[0], options.sigmaRange[1]);
  return gaussianBlur(volume, [sg, sg, volume.shape[2] === 1 ? 0 : sg]);
}
