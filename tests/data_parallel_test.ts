import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parallelWindows, pipelineWindows, type Window, type WindowPipelineSpec } from "../src/data/mod.ts";
import { assertRejects } from "./_util.ts";
import { writeRandomNifti } from "./_data_helpers.ts";

function key(w: Window): string {
  let h = 0;
  for (const v of Object.values(w.data)) {
    for (let i = 0; i < v.data.length; i++) h = (h * 31 + Math.round(v.data[i] * 1e6)) | 0;
  }
  return `${w.subject}|${w.location.image.start.join(",")}|${h}`;
}

async function collect(it: AsyncIterable<Window>): Promise<string[]> {
  const out: string[] = [];
  for await (const w of it) out.push(key(w));
  return out.sort();
}

Deno.test("worker sampling (2 threads) yields exactly the windows of in-thread sampling, augmentation included", async () => {
  const dir = await Deno.makeTempDir();
  const subjects = [];
  for (const id of ["a", "b", "c"]) {
    await writeRandomNifti(`${dir}/${id}_img.nii.gz`, [12, 10, 8], id.charCodeAt(0));
    await writeRandomNifti(`${dir}/${id}_lab.nii.gz`, [12, 10, 8], id.charCodeAt(0) + 100);
    subjects.push({ id, files: { img: `${dir}/${id}_img.nii.gz`, lab: `${dir}/${id}_lab.nii.gz` } });
  }
  const spec: WindowPipelineSpec = {
    subjects,
    loader: { sections: { img: {}, lab: { interpOrder: 0 } }, roles: { image: ["img"], label: ["lab"] } },
    preprocess: { whitening: true, volumePaddingSize: [1] },
    augmentation: { randomFlippingAxes: [0, 1], rotationAngle: [-10, 10], order: 1 },
    sampler: { kind: "uniform", options: { spatialWindowSize: { image: [6, 6, 4] }, samplePerVolume: 3 } },
    epochs: 2,
    shuffle: true,
    seed: 7,
  };
  const local = await collect(pipelineWindows(spec));
  assertEquals(local.length, 18);
  const parallel = await collect(parallelWindows(spec, { numThreads: 2, queueLength: 4 }));
  assertEquals(parallel, local);
  assert(new Set(local).size > 12, "windows differ from one another");
});

Deno.test("a worker's loading error reaches the consumer naming the file", async () => {
  const spec: WindowPipelineSpec = {
    subjects: [{ id: "x", files: { img: "/nonexistent/x.nii.gz" } }],
    loader: { sections: { img: {} }, roles: { image: ["img"] } },
    sampler: { kind: "grid", options: { spatialWindowSize: { image: [4, 4, 4] } } },
  };
  await assertRejects(() => collect(parallelWindows(spec, { numThreads: 1 })), `"/nonexistent/x.nii.gz"`);
});
