/**
 * Small 4×4 / 3×3 matrix maths for voxel→world affines, and NIfTI's quaternion (qform) encoding, computed in
 * float64 with nibabel's rules.
 *
 * @module
 */
import type { Affine, Row4 } from "./image.ts";

/** A 3×3 matrix, row-major. */
export type Mat3 = number[][];

/** Builds an {@link Affine} from any 4×4 (or 3×4) nested array; the last row is forced to `[0, 0, 0, 1]`. */
export function toAffine(m: ArrayLike<ArrayLike<number>>): Affine {
  const row = (i: number): Row4 => [m[i][0], m[i][1], m[i][2], m[i][3]];
  return [row(0), row(1), row(2), [0, 0, 0, 1]];
}

/** The 4×4 identity. */
export function identityAffine(): Affine {
  return [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
}

/** Diagonal scaling affine with a translation. */
export function diagonalAffine(diag: ArrayLike<number>, translation: ArrayLike<number> = [0, 0, 0]): Affine {
  return [
    [diag[0], 0, 0, translation[0]],
    [0, diag[1], 0, translation[1]],
    [0, 0, diag[2], translation[2]],
    [0, 0, 0, 1],
  ];
}

/** Matrix product `a · b` of two 4×4 matrices. */
export function matmul4(a: Affine, b: Affine): Affine {
  const out: number[][] = [];
  for (let i = 0; i < 4; i++) {
    out.push([0, 1, 2, 3].map((j) => a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j] + a[i][3] * b[3][j]));
  }
  return toAffine(out);
}

/** Inverse of a 4×4 affine (last row `[0, 0, 0, 1]`); throws when the 3×3 part is singular. */
export function invertAffine(a: Affine): Affine {
  const m = [[a[0][0], a[0][1], a[0][2]], [a[1][0], a[1][1], a[1][2]], [a[2][0], a[2][1], a[2][2]]];
  const inv = invert3(m);
  const t = [a[0][3], a[1][3], a[2][3]];
  const ti = [0, 1, 2].map((i) => -(inv[i][0] * t[0] + inv[i][1] * t[1] + inv[i][2] * t[2]));
  return [
    [inv[0][0], inv[0][1], inv[0][2], ti[0]],
    [inv[1][0], inv[1][1], inv[1][2], ti[1]],
    [inv[2][0], inv[2][1], inv[2][2], ti[2]],
    [0, 0, 0, 1],
  ];
}

/** Determinant of a 3×3 matrix. */
export function det3(m: Mat3): number {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

/** Inverse of a 3×3 matrix (adjugate / determinant); throws when singular. */
export function invert3(m: Mat3): Mat3 {
  const d = det3(m);
  if (!Number.isFinite(d) || d === 0) throw new Error(`affine is singular (3x3 determinant ${d})`);
  const c = (r0: number, c0: number, r1: number, c1: number) => m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
  return [
    [c(1, 1, 2, 2) / d, -c(0, 1, 2, 2) / d, c(0, 1, 1, 2) / d],
    [-c(1, 0, 2, 2) / d, c(0, 0, 2, 2) / d, -c(0, 0, 1, 2) / d],
    [c(1, 0, 2, 1) / d, -c(0, 0, 2, 1) / d, c(0, 0, 1, 1) / d],
  ];
}

/** The upper-left 3×3 block of an affine. */
export function linearPart(a: Affine): Mat3 {
  return [[a[0][0], a[0][1], a[0][2]], [a[1][0], a[1][1], a[1][2]], [a[2][0], a[2][1], a[2][2]]];
}

/** Applies an affine to a point. */
export function applyAffine(a: Affine, p: ArrayLike<number>): [number, number, number] {
  return [
    a[0][0] * p[0] + a[0][1] * p[1] + a[0][2] * p[2] + a[0][3],
    a[1][0] * p[0] + a[1][1] * p[1] + a[1][2] * p[2] + a[1][3],
    a[2][0] * p[0] + a[2][1] * p[1] + a[2][2] * p[2] + a[2][3],
  ];
}

/** Voxel sizes implied by an affine: the Euclidean norm of each of the first three columns (nibabel `voxel_sizes`). */
export function voxelSizes(a: Affine): [number, number, number] {
  const n = (j: number) => Math.hypot(a[0][j], a[1][j], a[2][j]);
  return [n(0), n(1), n(2)];
}

/**
 * The orthogonal matrix nearest to `m` (the orthogonal factor of its polar decomposition, which equals `U·Vᵀ` of
 * the SVD that nibabel uses). Newton iteration `X ← (X + X⁻ᵀ)/2` converges quadratically for non-singular input.
 */
export function nearestOrthogonal(m: Mat3): Mat3 {
  let x = m.map((r) => r.slice());
  for (let iter = 0; iter < 100; iter++) {
    const inv = invert3(x);
    const next = x.map((r, i) => r.map((v, j) => 0.5 * (v + inv[j][i])));
    let delta = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) delta = Math.max(delta, Math.abs(next[i][j] - x[i][j]));
    x = next;
    if (delta < 1e-15) break;
  }
  return x;
}

/** The quaternion (qform) parameters of a NIfTI header. */
export interface Qform {
  /** Quaternion b, c, d (a is implied, ≥ 0). */
  readonly b: number;
  readonly c: number;
  readonly d: number;
  /** Translation `qoffset_x/y/z`. */
  readonly offset: readonly [number, number, number];
  /** Voxel sizes pixdim[1..3] (positive). */
  readonly pixdim: readonly [number, number, number];
  /** pixdim[0]: -1 flips the third axis, anything else counts as 1. */
  readonly qfac: number;
}

/** float32 machine epsilon, as numpy's `np.finfo(np.float32).eps`. */
const FLOAT32_EPS = 1.1920928955078125e-7;

/**
 * The qform affine exactly as nibabel computes it: `a = sqrt(1 − b² − c² − d²)`, where a slightly negative
 * radicand (down to −3·eps(float32), rounding in stored float32 values) means a = 0, a 180° rotation; below that
 * the quaternion is invalid and this throws.
 */
export function qformToAffine(q: Qform): Affine {
  const { b, c, d } = q;
  const w2 = 1.0 - (b * b + c * c + d * d);
  let a: number;
  if (w2 < 0) {
    if (w2 < -FLOAT32_EPS * 3) throw new Error(`invalid qform quaternion: b²+c²+d² = ${1 - w2} exceeds 1`);
    a = 0;
  } else {
    a = Math.sqrt(w2);
  }
  const nq = a * a + b * b + c * c + d * d;
  let r: Mat3;
  if (nq < 2.220446049250313e-16) {
    r = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  } else {
    const s = 2.0 / nq;
    const X = b * s, Y = c * s, Z = d * s;
    const wX = a * X, wY = a * Y, wZ = a * Z;
    const xX = b * X, xY = b * Y, xZ = b * Z;
    const yY = c * Y, yZ = c * Z, zZ = d * Z;
    r = [
      [1.0 - (yY + zZ), xY - wZ, xZ + wY],
      [xY + wZ, 1.0 - (xX + zZ), yZ - wX],
      [xZ - wY, yZ + wX, 1.0 - (xX + yY)],
    ];
  }
  const vox = [Math.abs(q.pixdim[0]), Math.abs(q.pixdim[1]), Math.abs(q.pixdim[2]) * (q.qfac === -1 ? -1 : 1)];
  return [
    [r[0][0] * vox[0], r[0][1] * vox[1], r[0][2] * vox[2], q.offset[0]],
    [r[1][0] * vox[0], r[1][1] * vox[1], r[1][2] * vox[2], q.offset[1]],
    [r[2][0] * vox[0], r[2][1] * vox[1], r[2][2] * vox[2], q.offset[2]],
    [0, 0, 0, 1],
  ];
}

/**
 * Encodes an affine as a qform: voxel sizes are the column norms, the rotation is the orthogonal matrix nearest to
 * the normalised columns (shears cannot be stored in a qform), a negative determinant sets qfac = −1 by flipping
 * the third column, and the quaternion is returned with a ≥ 0 (the sign NIfTI readers assume).
 */
export function affineToQform(affine: Affine): Qform {
  const zooms = voxelSizes(affine).map((z) => (z === 0 ? 1 : z)) as [number, number, number];
  const m = linearPart(affine).map((row) => row.map((v, j) => v / zooms[j]));
  let r = nearestOrthogonal(m);
  let qfac = 1;
  if (det3(r) < 0) {
    qfac = -1;
    r = r.map((row) => [row[0], row[1], -row[2]]);
  }
  // Shepperd's method: pick the largest of the four squared components for stability.
  const trace = r[0][0] + r[1][1] + r[2][2];
  let a: number, b: number, c: number, d: number;
  if (trace > 0) {
    const s = 2 * Math.sqrt(1 + trace);
    a = 0.25 * s;
    b = (r[2][1] - r[1][2]) / s;
    c = (r[0][2] - r[2][0]) / s;
    d = (r[1][0] - r[0][1]) / s;
  } else if (r[0][0] > r[1][1] && r[0][0] > r[2][2]) {
    const s = 2 * Math.sqrt(1 + r[0][0] - r[1][1] - r[2][2]);
    a = (r[2][1] - r[1][2]) / s;
    b = 0.25 * s;
    c = (r[0][1] + r[1][0]) / s;
    d = (r[0][2] + r[2][0]) / s;
  } else if (r[1][1] > r[2][2]) {
    const s = 2 * Math.sqrt(1 + r[1][1] - r[0][0] - r[2][2]);
    a = (r[0][2] - r[2][0]) / s;
    b = (r[0][1] + r[1][0]) / s;
    c = 0.25 * s;
    d = (r[1][2] + r[2][1]) / s;
  } else {
    const s = 2 * Math.sqrt(1 + r[2][2] - r[0][0] - r[1][1]);
    a = (r[1][0] - r[0][1]) / s;
    b = (r[0][2] + r[2][0]) / s;
    c = (r[1][2] + r[2][1]) / s;
    d = 0.25 * s;
  }
  if (a < 0) {
    b = -b;
    c = -c;
    d = -d;
  }
  return { b, c, d, offset: [affine[0][3], affine[1][3], affine[2][3]], pixdim: zooms, qfac };
}

/** Largest absolute elementwise difference between two affines. */
export function affineMaxDiff(a: Affine, b: Affine): number {
  let m = 0;
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
  return m;
}

/** Formats an affine as four aligned text rows. */
export function formatAffine(a: Affine, digits = 4): string {
  const cells = a.map((r) => r.map((v) => (Object.is(v, -0) ? 0 : v).toFixed(digits)));
  const width = Math.max(...cells.flat().map((s) => s.length));
  return cells.map((r) => r.map((s) => s.padStart(width)).join(" ")).join("\n");
}
