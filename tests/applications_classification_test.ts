import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import "../src/applications/mod.ts";
import { classOf } from "../src/data/mod.ts";
import { findApplication } from "../src/engine/application.ts";
import { runAction } from "../src/engine/mod.ts";
import { writeNifti } from "../src/io/mod.ts";
import { discData, testImage, writeConfig } from "./_applications_data.ts";
import { assertFlatTensorCount, evaluationRows, inferredRows } from "./_applications_checks.ts";

await useBackend("cpu");

const PLUGIN = new URL("./_applications_classifier.ts", import.meta.url).pathname;

/** 2D discs with a one-voxel class image per case (class = case index mod 2). */
async function classificationData(dir: string, count: number): Promise<string[]> {
  const ids = await discData(dir, count, [8, 8]);
  for (const [k, id] of ids.entries()) {
    await writeNifti(join(dir, "data", `${id}_cls.nii.gz`), testImage(Uint8Array.of(k % 2), [1, 1, 1]));
  }
  return ids;
}

function classificationConfig(dir: string, training: Record<string, string | number> = {}) {
  return writeConfig(dir, {
    images: { path_to_search: "data", filename_contains: "img", spatial_window_size: "(8, 8, 1)" },
    classes: { path_to_search: "data", filename_contains: "cls", spatial_window_size: "(1, 1, 1)", interp_order: 0 },
    SYSTEM: { model_dir: "model", random_seed: 2 },
    NETWORK: { name: PLUGIN, batch_size: 2, window_sampling: "resize" },
    TRAINING: { max_iter: 4, save_every_n: 0, lr: 0.05, exclude_fraction_for_inference: 0.5, ...training },
    EVALUATION: { evaluations: "classification_accuracy" },
    CLASSIFICATION: { image: "images", label: "classes", num_classes: 2 },
  });
}

Deno.test("classOf reads a one-voxel class image, or the label at the window's centre", () => {
  const window = { subject: "s", location: { image: { start: [2, 0, 0], size: [4, 2, 1] } }, data: {} } as never;
  assertEquals(classOf({ data: Float32Array.of(3), shape: [1, 1, 1], channels: 1 }, window), 3);
  const label = { data: Float32Array.from({ length: 8 * 2 }, (_, i) => i), shape: [8, 2, 1], channels: 1 } as const;
  assertEquals(classOf(label, window), 4 + 8 * 1);
});

Deno.test("classification end to end with a network plugin: train → inferred.csv of classes → accuracy CSV", async () => {
  assertEquals(findApplication("classification")?.section, "CLASSIFICATION");
  const dir = await Deno.makeTempDir();
  await classificationData(dir, 6);
  const config = await classificationConfig(dir);
  const before = tf.memory().numTensors;
  const log = () => {};
  await runAction("train", config, [], { log, handleSignals: false });
  await runAction("infer", config, [], { log });
  const rows = await inferredRows(dir);
  assertEquals(rows.length, 3);
  assert(rows.every((r) => /^case\d,[01]$/.test(r)), rows.join("\n"));
  await runAction("infer", config, ["--output_prob", "true"], { log });
  const probabilities = await inferredRows(dir);
  for (const row of probabilities) {
    const [, p0, p1] = row.split(",").map(Number);
    assert(Math.abs(p0 + p1 - 1) < 1e-5, row);
  }
  await runAction("infer", config, [], { log });
  await runAction("evaluate", config, [], { log });
  const csv = await evaluationRows(dir);
  assertEquals(csv[0], "subject_id,label,classification_accuracy");
  const accuracy = Number(csv[1].split(",")[2]);
  assert(accuracy >= 0 && accuracy <= 1, csv[1]);
  assertEquals(tf.memory().numTensors, before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("classification keeps the tensor count constant over 200 training iterations", async () => {
  const dir = await Deno.makeTempDir();
  await classificationData(dir, 2);
  const config = await classificationConfig(dir, { max_iter: 200, exclude_fraction_for_inference: 0 });
  await assertFlatTensorCount(config);
  await Deno.remove(dir, { recursive: true });
});
