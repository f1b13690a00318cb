/**
 * Benchmark: uniform 64³ patch sampling with random flips and a random ±15° rotation (trilinear image, nearest
 * label) from a 128³ volume, NiftyTS vs a TorchIO-style numpy/scipy reference doing the same per-patch work
 * (bench/reference/data_sampling.py). Prints patches/s for both and the ratio.
 *
 * Run: `deno run -A bench/data_sampling.ts [patches]`
 *
 * @module
 */
import {
  drawAffine,
  drawFlipAxes,
  flipVolume,
  rotationScalingMatrix,
  uniformSampler,
  warpAffine,
} from "../src/data/mod.ts";
import { RandomStream } from "../src/dsl/random.ts";
import type { ChannelVolume } from "../src/data/types.ts";

const patches = Number(Deno.args[0] ?? 20);
const size = 128, win = 64;

// A smooth random image (box-blurred noise) and its thresholded label.
const rng = new RandomStream(0);
const noise = Float32Array.from({ length: size ** 3 }, () => rng.normal());
const image: ChannelVolume = { data: noise, shape: [size, size, size], channels: 1 };
const label: ChannelVolume = { data: noise.map((v) => (v > 0 ? 1 : 0)), shape: image.shape, channels: 1 };

function run(n: number, seed: number): number {
  const r = new RandomStream(seed);
  const t0 = performance.now();
  for (
    const w of uniformSampler({ id: "bench", volumes: { image, label } }, {
      spatialWindowSize: { image: [win, win, win] },
      samplePerVolume: n,
      seed: r,
    })
  ) {
    const axes = drawFlipAxes(r, { randomFlippingAxes: [0, 1, 2] });
    const { degrees, scale } = drawAffine(r, { rotationAngle: [-15, 15] }, false);
    const m = rotationScalingMatrix(degrees, scale);
    warpAffine(flipVolume(w.data.image, axes), m, { order: 1 });
    warpAffine(flipVolume(w.data.label, axes), m, { order: 0 });
  }
  return (performance.now() - t0) / 1000;
}

run(2, 1);
const seconds = run(patches, 2);
const ours = patches / seconds;
console.log(`niftyts   ${patches} patches 64^3 flip+rotation: ${seconds.toFixed(2)} s, ${ours.toFixed(2)} patches/s`);

const { code, stdout, stderr } = await new Deno.Command("/usr/bin/python3", {
  args: [new URL("./reference/data_sampling.py", import.meta.url).pathname, String(patches)],
  stdout: "piped",
  stderr: "piped",
}).output();
if (code !== 0) {
  console.log(`reference unavailable: ${new TextDecoder().decode(stderr).trim().split("\n").pop()}`);
} else {
  const ref = JSON.parse(new TextDecoder().decode(stdout));
  console.log(
    `reference ${patches} patches (numpy/scipy): ${ref.seconds.toFixed(2)} s, ${
      ref.patches_per_s.toFixed(2)
    } patches/s`,
  );
  console.log(`ratio niftyts / reference: ${(ours / ref.patches_per_s).toFixed(2)}`);
}
