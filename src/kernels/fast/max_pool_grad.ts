/**
 * MaxPool3DGrad for channels-last volumes with tfjs-backend-cpu's exact semantics (each window's gradient goes to
 * its last maximum in depth, height, width order; a window with no comparable value passes none) as one pass over
 * the windows that scatters dy, instead of the stock kernel's search of every window around every input voxel.
 *
 * @module
 */

/** Geometry of a 3D max pool (tfjs `computePool3DInfo`, dilation 1). */
export interface Pool3DGeometry {
  batch: number;
  channels: number;
  inSize: readonly [number, number, number];
  outSize: readonly [number, number, number];
  strides: readonly [number, number, number];
  filter: readonly [number, number, number];
  padsBefore: readonly [number, number, number];
}

/** dx of a 3D max pool: `x` is the pooled input (NDHWC), `dy` the gradient of its output. */
export function maxPool3dGrad(x: Float32Array, dy: Float32Array, g: Pool3DGeometry): Float32Array {
  const [d, h, w] = g.inSize, [od, oh, ow] = g.outSize, c = g.channels;
  const dx = new Float32Array(x.length);
  const best = new Float32Array(c), where = new Int32Array(c);
  let o = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let z = 0; z < od; z++) {
      const zs = z * g.strides[0] - g.padsBefore[0];
      const z0 = Math.max(zs, 0), z1 = Math.min(zs + g.filter[0], d);
      for (let y = 0; y < oh; y++) {
        const ys = y * g.strides[1] - g.padsBefore[1];
        const y0 = Math.max(ys, 0), y1 = Math.min(ys + g.filter[1], h);
        for (let xo = 0; xo < ow; xo++, o += c) {
          const xs = xo * g.strides[2] - g.padsBefore[2];
          const x0 = Math.max(xs, 0), x1 = Math.min(xs + g.filter[2], w);
          best.fill(-Infinity);
          where.fill(-1);
          for (let zz = z0; zz < z1; zz++) {
            for (let yy = y0; yy < y1; yy++) {
              for (let xx = x0; xx < x1; xx++) {
                const base = (((b * d + zz) * h + yy) * w + xx) * c;
                for (let ch = 0; ch < c; ch++) {
                  const v = x[base + ch];
                  if (v >= best[ch]) {
                    best[ch] = v;
                    where[ch] = base + ch;
                  }
                }
              }
            }
          }
          for (let ch = 0; ch < c; ch++) if (where[ch] >= 0) dx[where[ch]] += dy[o + ch];
        }
      }
    }
  }
  return dx;
}
