/**
 * Binary morphology on row-major N-D masks: the surface (boundary) of a mask and connected-component labelling.
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
