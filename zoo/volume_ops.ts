/**
 * Host-side volume steps of the zoo pipeline, as brainchop does them: normalisation (min-max or quantile), the
 * crop box (thresholded foreground or a pre-model's mask, plus padding), crop and paste, and the layout change
 * between NIfTI order (x fastest) and the network's C order (z fastest).
 *
 * @module
 */

/** A 3D shape `[x, y, z]`. */
export type Shape3 = readonly [number, number, number];

/** Min-max to [0, 1]: (v − min)/(max − min); a constant volume becomes zeros. */
export function minMaxNormalize(data: Float32Array): Float32Array {
  let min = Infinity, max = -Infinity;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  return data.map((v) => (range > 0 ? (v - min) / range : 0));
}

/**
 * brainchop's quantile normalisation: with the values sorted, q_low = sorted[⌊low·n⌋] and
 * q_high = sorted[⌈high·n⌉ − 1]; v → (v − q_low)/(q_high − q_low) (not clipped).
 */
export function quantileNormalize(data: Float32Array, low = 0.05, high = 0.95): Float32Array {
  const [qLow, qHigh] = brainchopQuantiles(data, low, high);
  const range = qHigh - qLow;
  return data.map((v) => (range !== 0 ? (v - qLow) / range : 0));
}

/** brainchop's quantiles of `data`: `[sorted[⌊low·n⌋], sorted[⌈high·n⌉ − 1]]`. */
export function brainchopQuantiles(data: ArrayLike<number>, low: number, high: number): [number, number] {
  const sorted = Float32Array.from(data).sort();
  const n = sorted.length;
  return [sorted[Math.floor(low * n)], sorted[Math.ceil(high * n) - 1]];
}

/** An inclusive box `[start, end]` per axis. */
export interface Box {
  readonly start: readonly [number, number, number];
  readonly end: readonly [number, number, number];
}

/**
 * The bounding box (C order `[x, y, z]`) of the voxels where `inside(i)` holds, grown by `padding` on each side and
 * clipped to the volume; undefined when no voxel is inside.
 */
export function boundingBox(shape: Shape3, inside: (i: number) => boolean, padding = 0): Box | undefined {
  const [nx, ny, nz] = shape;
  const lo = [nx, ny, nz], hi = [-1, -1, -1];
  let i = 0;
  for (let x = 0; x < nx; x++) {
    for (let y = 0; y < ny; y++) {
      for (let z = 0; z < nz; z++, i++) {
        if (!inside(i)) continue;
        if (x < lo[0]) lo[0] = x;
        if (x > hi[0]) hi[0] = x;
        if (y < lo[1]) lo[1] = y;
        if (y > hi[1]) hi[1] = y;
        if (z < lo[2]) lo[2] = z;
        if (z > hi[2]) hi[2] = z;
      }
    }
  }
  if (hi[0] < 0) return undefined;
  const start = lo.map((v) => Math.max(0, v - padding)) as unknown as [number, number, number];
  const end = hi.map((v, k) => Math.min(shape[k] - 1, v + padding)) as unknown as [number, number, number];
  return { start, end };
}

/** The shape of a box. */
export function boxShape(box: Box): Shape3 {
  return [0, 1, 2].map((k) => box.end[k] - box.start[k] + 1) as unknown as Shape3;
}

/** The box's voxels of a C-order volume. */
export function cropVolume(data: Float32Array, shape: Shape3, box: Box): Float32Array {
  const [sx, sy, sz] = boxShape(box);
  const out = new Float32Array(sx * sy * sz);
  let o = 0;
  for (let x = 0; x < sx; x++) {
    for (let y = 0; y < sy; y++) {
      const from = ((box.start[0] + x) * shape[1] + box.start[1] + y) * shape[2] + box.start[2];
      out.set(data.subarray(from, from + sz), o);
      o += sz;
    }
  }
  return out;
}

/** A C-order volume of `shape`, zero except the box, which gets `part` (`channels` values per voxel). */
export function pasteVolume<T extends Uint8Array | Float32Array>(
  part: T,
  box: Box,
  shape: Shape3,
  make: (n: number) => T,
  channels = 1,
): T {
  const [sx, sy, sz] = boxShape(box);
  const out = make(shape[0] * shape[1] * shape[2] * channels);
  let o = 0;
  const row = sz * channels;
  for (let x = 0; x < sx; x++) {
    for (let y = 0; y < sy; y++) {
      const to = (((box.start[0] + x) * shape[1] + box.start[1] + y) * shape[2] + box.start[2]) * channels;
      out.set(part.subarray(o, o + row), to);
      o += row;
    }
  }
  return out;
}

/** NIfTI order (x fastest) → C order (z fastest), as float32. */
export function toCOrder(data: ArrayLike<number>, shape: Shape3): Float32Array {
  const [nx, ny, nz] = shape;
  const out = new Float32Array(nx * ny * nz);
  let i = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) out[(x * ny + y) * nz + z] = data[i];
    }
  }
  return out;
}

/** C order (z fastest) → NIfTI order (x fastest); `channels` values per voxel become the slowest axis. */
export function toNiftiOrder<T extends Uint8Array | Float32Array>(
  data: T,
  shape: Shape3,
  make: (n: number) => T,
  channels = 1,
): T {
  const [nx, ny, nz] = shape;
  const n = nx * ny * nz;
  const out = make(n * channels);
  let i = 0;
  for (let x = 0; x < nx; x++) {
    for (let y = 0; y < ny; y++) {
      for (let z = 0; z < nz; z++, i++) {
        const to = x + nx * (y + ny * z);
        for (let c = 0; c < channels; c++) out[to + n * c] = data[i * channels + c];
      }
    }
  }
  return out;
}
