/**
 * Binary morphology on row-major N-D masks: the surface (boundary) of a mask and connected-component labelling; and
 * the post-processing of 3D label maps built on them (largest component, hole filling), shared by `zoo run` and
 * the segmentation application's `keep_largest_component` / `fill_holes`.
 *
 * @module
 */
import { type Mask, stridesOf, voxelCount } from "./types.ts";

/**
 * The surface of a mask: voxels of the mask with at least one face neighbour (2·ndim of them) outside the mask or
 * outside the image. This is `mask & ~binary_erosion(mask, generate_binary_structure(ndim, 1), border_value=0)` in
 * scipy.ndimage, the boundary MONAI's `get_mask_edges` uses. A non-empty mask always has a non-empty surface.
 */
export function surface(mask: Mask, shape: readonly number[]): Mask {
  const n = voxelCount(shape), strides = stridesOf(shape), rank = shape.length;
  const out = new Uint8Array(n);
  const coord = new Int32Array(rank);
  for (let i = 0; i < n; i++) {
    if (mask[i]) {
      let edge = false;
      for (let d = 0; d < rank && !edge; d++) {
        const c = coord[d], s = strides[d];
        edge = c === 0 || c === shape[d] - 1 || !mask[i - s] || !mask[i + s];
      }
      if (edge) out[i] = 1;
    }
    for (let d = rank - 1; d >= 0; d--) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
  return out;
}

/** Neighbourhood for connected components: 1 = face neighbours only (scipy's default), "full" = all 3^ndim − 1. */
export type Connectivity = 1 | "full";

/** Connected components of a mask: `labels[i]` is 1…count for mask voxels, 0 elsewhere. */
export interface Components {
  readonly labels: Int32Array;
  readonly count: number;
}

/**
 * Labels the connected components of a mask, numbered 1…count in the raster order of each component's first
 * voxel, as `scipy.ndimage.label` does (face connectivity by default).
 */
export function connectedComponents(
  mask: Mask,
  shape: readonly number[],
  { connectivity = 1 }: { connectivity?: Connectivity } = {},
): Components {
  const n = voxelCount(shape), rank = shape.length, strides = stridesOf(shape);
  // Neighbour offsets that precede a voxel in raster order (the first non-zero component is −1).
  const offsets: number[][] = [];
  const visit = (delta: number[], d: number): void => {
    if (d === rank) {
      const first = delta.find((x) => x !== 0);
      const order = delta.reduce((a, x) => a + Math.abs(x), 0);
      if (first === -1 && (connectivity === "full" || order === 1)) offsets.push([...delta]);
      return;
    }
    for (const x of [-1, 0, 1]) {
      delta[d] = x;
      visit(delta, d + 1);
    }
  };
  visit(new Array(rank).fill(0), 0);
  const parent = new Int32Array(n + 1); // union-find over provisional labels
  const labels = new Int32Array(n);
  const find = (a: number): number => {
    while (parent[a] !== a) a = parent[a] = parent[parent[a]];
    return a;
  };
  let next = 0;
  const coord = new Int32Array(rank);
  for (let i = 0; i < n; i++) {
    if (mask[i]) {
      let label = 0;
      for (const delta of offsets) {
        let j = i, inside = true;
        for (let d = 0; d < rank; d++) {
          const c = coord[d] + delta[d];
          if (c < 0 || c >= shape[d]) {
            inside = false;
            break;
          }
          j += delta[d] * strides[d];
        }
        if (!inside || !labels[j]) continue;
        const root = find(labels[j]);
        if (!label) label = root;
        else if (root !== label) {
          const [lo, hi] = root < label ? [root, label] : [label, root];
          parent[hi] = lo;
          label = lo;
        }
      }
      if (!label) {
        label = ++next;
        parent[label] = label;
      }
      labels[i] = label;
    }
    for (let d = rank - 1; d >= 0; d--) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
  // Final numbering in order of first appearance.
  const final = new Int32Array(next + 1);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!labels[i]) continue;
    const root = find(labels[i]);
    if (!final[root]) final[root] = ++count;
    labels[i] = final[root];
  }
  return { labels, count };
}

function find(parent: Int32Array, i: number): number {
  while (parent[i] !== i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

/** Integer label maps {@link keepLargestComponent} and {@link fillHoles} work on (float32 holds integer labels). */
export type LabelArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | Uint32Array | Float32Array;

/**
 * Largest-component filtering of a 3D label map with full (26-)connectivity, as brainchop's `bwlabel` and MONAI's
 * `KeepLargestConnectedComponent` default: `"foreground"` takes all non-zero voxels as one class and zeroes those
 * outside its largest component (labels unchanged); `"per-label"` keeps the largest component of each label (of
 * `labels` only, when given; other labels are untouched). Ties keep the component met first in scan order.
 * `data` is a `[x, y, z]` volume in either axis order (connectivity is symmetric); changed in place and returned.
 *
 * @example
 * ```ts
 * const labels = new Uint8Array([1, 0, 1, 1]); // shape [4, 1, 1]: components {0} and {2, 3}
 * keepLargestComponent(labels, [4, 1, 1], "foreground"); // [0, 0, 1, 1]
 * ```
 */
export function keepLargestComponent<T extends LabelArray>(
  data: T,
  shape: readonly [number, number, number],
  mode: "foreground" | "per-label",
  options: { labels?: readonly number[] } = {},
): T {
  const only = options.labels ? new Set(options.labels) : undefined;
  const [nx, ny, nz] = shape;
  const n = nx * ny * nz;
  const parent = new Int32Array(n).fill(-1);
  const joins = (a: number, b: number) => mode === "foreground" || a === b;
  const union = (a: number, b: number) => {
    const ra = find(parent, a), rb = find(parent, b);
    if (ra !== rb) {
      if (ra < rb) parent[rb] = ra;
      else parent[ra] = rb;
    }
  };
  // Scan in layout order (the last axis fastest); link each voxel to its 13 already-visited neighbours.
  const strideX = ny * nz, strideY = nz;
  let i = 0;
  for (let x = 0; x < nx; x++) {
    for (let y = 0; y < ny; y++) {
      for (let z = 0; z < nz; z++, i++) {
        const v = data[i];
        if (v === 0) continue;
        parent[i] = i;
        for (let dx = -1; dx <= 0; dx++) {
          const xx = x + dx;
          if (xx < 0) continue;
          for (let dy = -1; dy <= 1; dy++) {
            const yy = y + dy;
            if (yy < 0 || yy >= ny) continue;
            if (dx === 0 && dy > 0) break;
            for (let dz = -1; dz <= 1; dz++) {
              const zz = z + dz;
              if (zz < 0 || zz >= nz) continue;
              if (dx === 0 && dy === 0 && dz >= 0) break;
              const j = xx * strideX + yy * strideY + zz;
              if (data[j] !== 0 && joins(v, data[j])) union(i, j);
            }
          }
        }
      }
    }
  }
  const size = new Int32Array(n);
  for (let k = 0; k < n; k++) if (parent[k] >= 0) size[find(parent, k)]++;
  // The root with the most voxels per class (the whole foreground is class 1 in "foreground" mode).
  const best = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    if (parent[k] !== k) continue;
    const cls = mode === "foreground" ? 1 : data[k];
    if (only && mode === "per-label" && !only.has(cls)) continue;
    const current = best.get(cls);
    if (current === undefined || size[k] > size[current]) best.set(cls, k);
  }
  const keep = new Set(best.values());
  for (let k = 0; k < n; k++) {
    if (parent[k] < 0 || (only && mode === "per-label" && !only.has(data[k]))) continue;
    if (!keep.has(find(parent, k))) data[k] = 0;
  }
  return data;
}

/**
 * Fills the holes of each label in `labels` (in that order), as `scipy.ndimage.binary_fill_holes` per label: a hole
 * is a region of voxels outside the label that is not face-connected to the volume's border; its background (0)
 * voxels take the label (voxels of other labels stay). `shape` is in C order (the last axis varies fastest); axes of
 * size 1 are dropped first, so a 2D slice stored as a volume is filled in 2D. `data` is changed in place and returned.
 *
 * @example
 * ```ts
 * const ring = new Uint8Array([1, 1, 1, 1, 0, 1, 1, 1, 1]); // a 3×3 ring around one background voxel
 * fillHoles(ring, [1, 3, 3], [1]); // all ones
 * ```
 */
export function fillHoles<T extends LabelArray>(data: T, fullShape: readonly number[], labels: readonly number[]): T {
  const shape = fullShape.filter((d) => d !== 1);
  const n = voxelCount(shape), rank = shape.length;
  if (data.length !== n) {
    throw new Error(`fill holes: shape [${fullShape}] needs ${n} voxels but data has ${data.length}`);
  }
  for (const label of labels) {
    const outside = new Uint8Array(n);
    for (let i = 0; i < n; i++) if (data[i] !== label) outside[i] = 1;
    const { labels: regions, count } = connectedComponents(outside, shape);
    const open = new Uint8Array(count + 1);
    const coord = new Int32Array(rank);
    for (let i = 0; i < n; i++) {
      if (regions[i] && !open[regions[i]]) {
        for (let d = 0; d < rank; d++) if (coord[d] === 0 || coord[d] === shape[d] - 1) open[regions[i]] = 1;
      }
      for (let d = rank - 1; d >= 0; d--) {
        if (++coord[d] < shape[d]) break;
        coord[d] = 0;
      }
    }
    for (let i = 0; i < n; i++) if (regions[i] && !open[regions[i]] && data[i] === 0) data[i] = label;
  }
  return data;
}
