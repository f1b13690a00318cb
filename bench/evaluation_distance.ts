/**
 * Benchmark: hausdorff95_distance + average_distance on a 256³ pair of offset spheres with spacing (0.8, 0.8, 2.0)
 * mm, NiftyTS vs scipy.ndimage (the same surface definition, two full-volume EDTs) side by side. Prints ms.
 *
 * Run: `deno run -A bench/evaluation_distance.ts [size]`
 *
 * @module
 */
import { evaluatePair } from "../src/evaluation/mod.ts";

const size = Number(Deno.args[0] ?? 256);
const shape = [size, size, size], spacing = [0.8, 0.8, 2.0];
const centre = shape.map((n, d) => (n / 2) * spacing[d]);
const radiusMm = 0.35 * size; // 89.6 mm at 256: 112 voxels in-plane, 45 through-plane

function sphere(offset: number[], radius: number): Uint8Array {
  const out = new Uint8Array(size ** 3);
  let i = 0;
  for (let x = 0; x < size; x++) {
    for (let y = 0; y < size; y++) {
      for (let z = 0; z < size; z++, i++) {
        const dx = x * spacing[0] - centre[0] - offset[0];
        const dy = y * spacing[1] - centre[1] - offset[1];
        const dz = z * spacing[2] - centre[2] - offset[2];
        out[i] = dx * dx + dy * dy + dz * dz <= radius * radius ? 1 : 0;
      }
    }
  }
  return out;
}

const ref = sphere([0, 0, 0], radiusMm);
const seg = sphere([3, -2, 4], radiusMm * 0.95);
const evaluations = ["hausdorff95_distance", "average_distance"];
const times: number[] = [];
let values: Readonly<Record<string, number>> = {};
for (let run = 0; run < 3; run++) {
  const t0 = performance.now();
  values = evaluatePair({ data: seg, shape, spacing }, { data: ref, shape, spacing }, { evaluations })[0].values;
  times.push(performance.now() - t0);
}
const niftyts = Math.min(...times);
console.log(`niftyts  ${size}^3 hausdorff95 + average_distance: ${niftyts.toFixed(0)} ms (best of 3)`, values);

const script = `
import sys, time, json
import numpy as np
from scipy import ndimage
size = ${size}; spacing = np.array([0.8, 0.8, 2.0]); centre = np.array([size / 2] * 3) * spacing
r = ${radiusMm}
g = np.ogrid[:size, :size, :size]
def sphere(off, rad):
    return sum(((g[d] * spacing[d] - centre[d] - off[d]) ** 2 for d in range(3))) <= rad * rad
ref, seg = sphere([0, 0, 0], r), sphere([3, -2, 4], r * 0.95)
st = ndimage.generate_binary_structure(3, 1)
best = 1e9
for _ in range(2):
    t0 = time.perf_counter()
    s = seg & ~ndimage.binary_erosion(seg, st, border_value=0)
    q = ref & ~ndimage.binary_erosion(ref, st, border_value=0)
    a = ndimage.distance_transform_edt(~q, sampling=spacing)[s]
    b = ndimage.distance_transform_edt(~s, sampling=spacing)[q]
    hd95 = max(np.percentile(a, 95), np.percentile(b, 95)); asd = (a.sum() + b.sum()) / (a.size + b.size)
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"ms": best * 1000, "hausdorff95_distance": hd95, "average_distance": asd}))
`;
try {
  const { code, stdout, stderr } = await new Deno.Command("/usr/bin/python3", { args: ["-c", script] }).output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  const py = JSON.parse(new TextDecoder().decode(stdout));
  console.log(`scipy    ${size}^3 hausdorff95 + average_distance: ${py.ms.toFixed(0)} ms (best of 2)`, {
    hausdorff95_distance: py.hausdorff95_distance,
    average_distance: py.average_distance,
  });
  console.log(`ratio niftyts / scipy: ${(niftyts / py.ms).toFixed(2)}`);
} catch (e) {
  console.log(`scipy reference not run: ${(e as Error).message.split("\n")[0]}`);
}
