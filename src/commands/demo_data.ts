/**
 * The demo's synthetic but realistic 3D dataset: "head-like" phantoms on an anisotropic grid (thick slices along
 * z), written as real `.nii.gz` files with a proper voxel→world affine.
 *
 * Each phantom, defined in world millimetres so the anisotropy is real, is a field of view inside an organ: soft
 * tissue (label 0) and three labelled structures with distinct intensities: 1 an outer shell region, 2 a brighter
 * core inside it, 3 a dark separate nodule. Sizes and positions vary per subject. Partial volume: each voxel is the
 * mean of 2×2×6 sub-samples across its extent (labels: the majority class). Then a smooth multiplicative bias
 * field (random linear + quadratic terms, ±~15 %) and Rician noise.
 *
 * @module
 */
import { join } from "node:path";
import { RandomStream } from "../dsl/random.ts";
import { writeNifti } from "../io/mod.ts";
import { encodePng } from "../deps.ts";
import type { Affine, Image } from "../geometry/image.ts";

/** One generated subject. */
export interface Phantom {
  /** Intensities, x fastest. */
  readonly image: Float32Array;
  /** Labels 0 background, 1 shell, 2 core, 3 nodule. */
  readonly labels: Uint8Array;
  readonly shape: readonly [number, number, number];
  readonly affine: Affine;
}

/** Options of {@link makePhantom}. */
export interface PhantomOptions {
  /** Voxels along x, y, z (default 64×64×16). */
  readonly shape?: readonly [number, number, number];
  /** Voxel size in mm (default 1.25×1.25×3: thick slices). */
  readonly spacing?: readonly [number, number, number];
  /** Rician noise level relative to the tissue intensity (default 0.06). */
  readonly noise?: number;
}

/** Number of labelled structures. */
export const PHANTOM_LABELS = [1, 2, 3] as const;

interface Ellipsoid {
  c: number[];
  r: number[];
}

function inside(p: readonly number[], e: Ellipsoid): boolean {
  return ((p[0] - e.c[0]) / e.r[0]) ** 2 + ((p[1] - e.c[1]) / e.r[1]) ** 2 + ((p[2] - e.c[2]) / e.r[2]) ** 2 < 1;
}

/** Generates one phantom; deterministic in `seed`. */
export function makePhantom(seed: number, options: PhantomOptions = {}): Phantom {
  const [nx, ny, nz] = options.shape ?? [64, 64, 16];
  const [sx, sy, sz] = options.spacing ?? [1.25, 1.25, 3];
  const rng = new RandomStream(seed);
  const u = (lo: number, hi: number) => lo + (hi - lo) * rng.uniform();
  const extent = [nx * sx, ny * sy, nz * sz];
  const mid = extent.map((e) => e / 2);
  const centre = mid.map((m) => m + u(-2, 2));
  // The shell sits off-centre, the nodule beside it on the opposite side, separated by a few mm of tissue.
  const angle = u(0, 2 * Math.PI);
  const dir = [Math.cos(angle), Math.sin(angle)];
  const sr = [u(12, 15), u(12, 15), u(12, 15)];
  const shell: Ellipsoid = {
    c: [centre[0] - 7 * dir[0], centre[1] - 7 * dir[1], centre[2] + u(-2, 2)],
    r: sr,
  };
  const core: Ellipsoid = { c: shell.c.map((c) => c + u(-1, 1)), r: shell.r.map((r) => r * u(0.6, 0.7)) };
  const nr = [u(7, 9), u(7, 9), u(8, 10)];
  const d = Math.max(sr[0], sr[1]) + nr[0] + u(2, 4);
  const nodule: Ellipsoid = { c: [shell.c[0] + d * dir[0], shell.c[1] + d * dir[1], shell.c[2] + u(-3, 3)], r: nr };
  // Distinct intensities ordered so that no partial-volume edge between two classes mimics a third: the nodule
  // (dark) only touches tissue, the core (bright) only the shell.
  const level = [0.4, 0.7, 1.0, 0.1]; // tissue, shell, core, nodule
  const bias = [u(-0.1, 0.1), u(-0.1, 0.1), u(-0.08, 0.08), u(-0.06, 0.06)];
  const noise = options.noise ?? 0.06;
  const sub = [2, 2, 6];
  const image = new Float32Array(nx * ny * nz), labels = new Uint8Array(nx * ny * nz);
  const counts = new Float64Array(4);
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        counts.fill(0);
        let value = 0;
        for (let a = 0; a < sub[0]; a++) {
          for (let b = 0; b < sub[1]; b++) {
            for (let c = 0; c < sub[2]; c++) {
              const p = [(x + (a + 0.5) / sub[0]) * sx, (y + (b + 0.5) / sub[1]) * sy, (z + (c + 0.5) / sub[2]) * sz];
              let label = 0, v = level[0];
              if (inside(p, nodule)) [label, v] = [3, level[3]];
              else if (inside(p, core)) [label, v] = [2, level[2]];
              else if (inside(p, shell)) [label, v] = [1, level[1]];
              counts[label]++;
              value += v;
            }
          }
        }
        const n = sub[0] * sub[1] * sub[2];
        let best = 0;
        for (let k = 1; k < 4; k++) if (counts[k] > counts[best]) best = k;
        labels[i] = best;
        const q = [x / nx - 0.5, y / ny - 0.5, z / nz - 0.5];
        const field = 1 + bias[0] * q[0] + bias[1] * q[1] + bias[2] * q[2] + bias[3] * (q[0] * q[0] + q[1] * q[1]) * 4;
        const clean = (value / n) * field;
        const re = clean + noise * level[0] * rng.normal(), im = noise * level[0] * rng.normal();
        image[i] = Math.hypot(re, im);
      }
    }
  }
  // RAS+ affine: voxel sizes on the diagonal, the volume centred on the world origin.
  const affine: Affine = [
    [sx, 0, 0, -extent[0] / 2],
    [0, sy, 0, -extent[1] / 2],
    [0, 0, sz, -extent[2] / 2],
    [0, 0, 0, 1],
  ];
  return { image, labels, shape: [nx, ny, nz], affine };
}

function asImage(data: Float32Array | Uint8Array, p: Phantom): Image {
  const [sx, sy, sz] = [p.affine[0][0], p.affine[1][1], p.affine[2][2]];
  return {
    data,
    shape: [p.shape[0], p.shape[1], p.shape[2], 1, 1],
    ndim: 3,
    affine: p.affine,
    pixdim: [sx, sy, sz],
    datatype: data instanceof Uint8Array ? "uint8" : "float32",
    affineSource: "sform",
  };
}

/** Options of {@link writePhantomDataset}. */
export interface PhantomDatasetOptions extends PhantomOptions {
  /** Number of subjects (default 12). */
  readonly count?: number;
  /** Seed of the first subject (default 1). */
  readonly seed?: number;
}

/**
 * Writes `<dir>/subjectNN_T1.nii.gz` and `<dir>/subjectNN_label.nii.gz` for each subject; returns the ids.
 *
 * @example
 * ```ts
 * import { writePhantomDataset } from "./demo_data.ts";
 * const ids = await writePhantomDataset("data", { count: 4, shape: [24, 24, 10] });
 * ```
 */
export async function writePhantomDataset(dir: string, options: PhantomDatasetOptions = {}): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const ids: string[] = [];
  for (let k = 0; k < (options.count ?? 12); k++) {
    const id = `subject${String(k + 1).padStart(2, "0")}`;
    const p = makePhantom((options.seed ?? 1) + k, options);
    await writeNifti(join(dir, `${id}_T1.nii.gz`), asImage(p.image, p));
    await writeNifti(join(dir, `${id}_label.nii.gz`), asImage(p.labels, p));
    ids.push(id);
  }
  return ids;
}

/** Options of {@link writePngSliceDataset}. */
export interface PngSliceOptions {
  /** Number of slices (default 8). */
  readonly count?: number;
  /** Rows and columns (default 64×64). */
  readonly size?: readonly [number, number];
  /** Seed of the first slice (default 1). */
  readonly seed?: number;
}

/**
 * Writes 2D phantoms as PNG files: `<dir>/sliceNN_image.png` (8-bit greyscale, a single-slice phantom scaled to
 * 0–255) and `<dir>/sliceNN_label.png` (its labels 0–3); returns the ids. Pixels are 1 mm (the PNGs state no size).
 *
 * @example
 * ```ts
 * import { writePngSliceDataset } from "./demo_data.ts";
 * const ids = await writePngSliceDataset("slices", { count: 4 });
 * ```
 */
export async function writePngSliceDataset(dir: string, options: PngSliceOptions = {}): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const [rows, columns] = options.size ?? [64, 64];
  const ids: string[] = [];
  for (let k = 0; k < (options.count ?? 8); k++) {
    const id = `slice${String(k + 1).padStart(2, "0")}`;
    // x = row, y = column (NiftyNet's 2D layout): the phantom's x fastest order becomes column-major pixels.
    const p = makePhantom((options.seed ?? 1) + k, { shape: [rows, columns, 1], spacing: [1, 1, 8] });
    let max = 0;
    for (const v of p.image) max = Math.max(max, v);
    const image = new Uint8Array(rows * columns), labels = new Uint8Array(rows * columns);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        image[r * columns + c] = Math.round((255 * p.image[r + rows * c]) / max);
        labels[r * columns + c] = p.labels[r + rows * c];
      }
    }
    const png = (data: Uint8Array) => encodePng({ width: columns, height: rows, data, channels: 1, depth: 8 });
    await Deno.writeFile(join(dir, `${id}_image.png`), png(image));
    await Deno.writeFile(join(dir, `${id}_label.png`), png(labels));
    ids.push(id);
  }
  return ids;
}
