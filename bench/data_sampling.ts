/**
 * Benchmark: uniform 64³ patch sampling with random flips and a random ±15° rotation (trilinear image, nearest
 * label) from a 128³ volume, NiftyTS vs a TorchIO-style numpy/scipy reference doing the same per-patch work
 * (bench/reference/data_sampling.py). Prints patches/s for both and the ratio.
 *
 * Then the whole window pipeline (`windowBatchSource`: NIfTI subjects read once into its cache, each visit flipped
 * and rotated as a whole 128³ volume, one 64³ window cut from it) with num_threads = 1, 2 and 4, as windows/s.
 *
 * Run: `deno run -A bench/data_sampling.ts [patches] [pipeline windows]`
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
import { windowBatchSource, type WindowPipelineSpec } from "../src/data/mod.ts";
import { RandomStream } from "../src/dsl/random.ts";
import type { ChannelVolume } from "../src/data/types.ts";
import { type Image, writeNifti } from "../src/io/mod.ts";

const patches = Number(Deno.args[0] ?? 20);
const pipelineWindows = Number(Deno.args[1] ?? 12);
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

// The pipeline: 4 subjects (the same volume under 4 names), read once, then every visit augments the whole volume.
const dir = await Deno.makeTempDir({ prefix: "niftyts_bench_sampling_" });
const asImage = (v: ChannelVolume): Image => ({
  data: v.data,
  shape: [size, size, size, 1, 1] as [number, number, number, number, number],
  ndim: 3,
  affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
  pixdim: [1, 1, 1],
  datatype: "float32",
  affineSource: "sform",
});
const subjects = [];
for (let k = 0; k < 4; k++) {
  await writeNifti(`${dir}/s${k}_img.nii`, asImage(image));
  await writeNifti(`${dir}/s${k}_lab.nii`, asImage(label));
  subjects.push({ id: `s${k}`, files: { img: `${dir}/s${k}_img.nii`, lab: `${dir}/s${k}_lab.nii` } });
}
const spec: WindowPipelineSpec = {
  subjects,
  loader: { sections: { img: {}, lab: { interpOrder: 0 } }, roles: { image: ["img"], label: ["lab"] }, cacheSize: 4 },
  augmentation: { randomFlippingAxes: [0, 1, 2], rotationAngle: [-15, 15], order: 1 },
  sampler: { kind: "uniform", options: { spatialWindowSize: { image: [win, win, win] }, samplePerVolume: 1 } },
};

async function pipelineRate(numThreads: number): Promise<number> {
  const source = windowBatchSource(spec, {
    batchSize: 1,
    seed: 3,
    endless: true,
    queueLength: 4,
    numThreads,
    toTensors: () => ({}),
  });
  try {
    // Start-up (workers, first reads) is not timed: one window per subject first.
    for (let i = 0; i < subjects.length; i++) await source.next();
    const t0 = performance.now();
    for (let i = 0; i < pipelineWindows; i++) await source.next();
    return pipelineWindows / ((performance.now() - t0) / 1000);
  } finally {
    await source.close?.();
  }
}

const rates: string[] = [];
for (const n of [1, 2, 4]) rates.push(`num_threads=${n} ${(await pipelineRate(n)).toFixed(2)}`);
console.log(`pipeline  windows/s, 64^3 windows, flip+rotation of the 128^3 volume per visit: ${rates.join(", ")}`);
await Deno.remove(dir, { recursive: true });

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
