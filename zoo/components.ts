/**
 * Largest 26-connected component filtering of a label map (brainchop's `bwlabel` post-processing).
 *
 * brainchop calls its labeller with `binarize = true`: all non-zero voxels form one class and only their largest
 * component survives, labels unchanged (`"foreground"`). `"per-label"` keeps the largest component of each label.
 * Ties keep the component met first in scan order.
 *
 * @module
 */

function find(parent: Int32Array, i: number): number {
  while (parent[i] !== i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

/**
 * Zeroes every voxel outside the largest 26-connected component (of the foreground, or of its own label).
 * `data` is a `[x, y, z]` volume in either axis order (connectivity is symmetric); changed in place and returned.
 *
 * @example
 * ```ts
 * import { keepLargestComponent } from "./components.ts";
 * const labels = new Uint8Array([1, 0, 1, 1]); // shape [4, 1, 1]: components {0} and {2, 3}
 * keepLargestComponent(labels, [4, 1, 1], "foreground"); // [0, 0, 1, 1]
 * ```
 */
export function keepLargestComponent(
  data: Uint8Array,
  shape: readonly [number, number, number],
  mode: "foreground" | "per-label",
): Uint8Array {
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
    const current = best.get(cls);
    if (current === undefined || size[k] > size[current]) best.set(cls, k);
  }
  const keep = new Set(best.values());
  for (let k = 0; k < n; k++) if (parent[k] >= 0 && !keep.has(find(parent, k))) data[k] = 0;
  return data;
}
