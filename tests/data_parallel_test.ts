/**
 * The window pipeline's worker pool (`num_threads`): the windows on N workers are exactly the in-thread windows, in
 * the same order; a resumed source continues exactly, whatever the number of threads; worker errors name the file.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  type BatchSource,
  epochVisits,
  type JsonValue,
  type Window,
  windowBatchSource,
  WindowPipeline,
  type WindowPipelineSpec,
  WindowWorkerPool,
} from "../src/data/mod.ts";
import { assertRejects } from "./_util.ts";
import { writeRandomNifti } from "./_data_helpers.ts";

function key(w: Window): string {
  let h = 0;
  for (const v of Object.values(w.data)) {
    for (let i = 0; i < v.data.length; i++) h = (h * 31 + Math.round(v.data[i] * 1e6)) | 0;
  }
  return `${w.subject}|${w.location.image.start.join(",")}|${h}`;
}

async function specOf(): Promise<WindowPipelineSpec> {
  const dir = await Deno.makeTempDir();
  const subjects = [];
  for (const id of ["a", "b", "c"]) {
    await writeRandomNifti(`${dir}/${id}_img.nii.gz`, [12, 10, 8], id.charCodeAt(0));
    await writeRandomNifti(`${dir}/${id}_lab.nii.gz`, [12, 10, 8], id.charCodeAt(0) + 100);
    subjects.push({ id, files: { img: `${dir}/${id}_img.nii.gz`, lab: `${dir}/${id}_lab.nii.gz` } });
  }
  return {
    subjects,
    loader: { sections: { img: {}, lab: { interpOrder: 0 } }, roles: { image: ["img"], label: ["lab"] } },
    preprocess: { whitening: true, volumePaddingSize: [1] },
    augmentation: { randomFlippingAxes: [0, 1], rotationAngle: [-10, 10], order: 1 },
    sampler: { kind: "uniform", options: { spatialWindowSize: { image: [6, 6, 4] }, samplePerVolume: 3 } },
    additions: [{ kind: "noise", role: "noise", size: 3 }],
  };
}

const spec = await specOf();
const visits = [...epochVisits(3, 7, { shuffle: true }), ...epochVisits(3, 8, { shuffle: true })];

Deno.test("worker sampling (2 threads) yields exactly the in-thread windows in the same order, augmentation included", async () => {
  const local: string[] = [];
  const pipeline = new WindowPipeline(spec);
  for (const v of visits) for (const w of (await pipeline.visit(v)).windows) local.push(key(w));
  assertEquals(local.length, 18);
  assert(new Set(local).size > 12, "windows differ from one another");
  for (const numThreads of [2]) {
    const pool = new WindowWorkerPool(spec, { numThreads });
    const parallel: string[] = [];
    try {
      for await (const r of pool.run(visits, 4)) for (const w of r.windows) parallel.push(key(w));
    } finally {
      pool.close();
    }
    assertEquals(parallel, local, `${numThreads} threads`);
  }
});

async function take(source: BatchSource, n: number): Promise<string[][]> {
  const out: string[][] = [];
  for (let i = 0; i < n; i++) {
    const b = (await source.next())!;
    out.push(b.windows!.map(key));
  }
  return out;
}

Deno.test("a window batch source on 3 threads resumed from its state (on 1 thread) continues exactly", async () => {
  const options = { batchSize: 2, seed: 5, endless: true, queueLength: 3, toTensors: () => ({}) };
  const first = windowBatchSource(spec, { ...options, numThreads: 3 });
  let state: JsonValue, rest: string[][];
  try {
    await take(first, 7); // past the first epoch (9 windows)
    state = first.state();
    rest = await take(first, 6);
  } finally {
    await first.close?.();
  }
  const resumed = windowBatchSource(spec, { ...options, numThreads: 1, state });
  try {
    assertEquals(await take(resumed, 6), rest);
  } finally {
    await resumed.close?.();
  }
});

Deno.test("a worker's loading error reaches the consumer naming the file", async () => {
  const bad: WindowPipelineSpec = {
    subjects: [{ id: "x", files: { img: "/nonexistent/x.nii.gz" } }],
    loader: { sections: { img: {} }, roles: { image: ["img"] } },
    sampler: { kind: "grid", options: { spatialWindowSize: { image: [4, 4, 4] } } },
  };
  const source = windowBatchSource(bad, {
    batchSize: 1,
    seed: 1,
    endless: true,
    queueLength: 2,
    numThreads: 2,
    toTensors: () => ({}),
  });
  try {
    await assertRejects(() => source.next(), `"/nonexistent/x.nii.gz"`);
  } finally {
    await source.close?.();
  }
});
