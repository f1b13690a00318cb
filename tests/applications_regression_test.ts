import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { cropBorder } from "../src/applications/mod.ts";
import { findApplication } from "../src/engine/application.ts";
import { runAction } from "../src/engine/mod.ts";
import { readImage } from "../src/io/mod.ts";
import { phantomData, writeConfig } from "./_applications_data.ts";
import { assertFlatTensorCount, evaluationRows, inferredRows } from "./_applications_checks.ts";

await useBackend("cpu");

/** The regression target is the label map as real values (the phantom's `_label` files). */
function regressionConfig(dir: string, training: Record<string, string | number> = {}, window = "(8, 8, 8)") {
  return writeConfig(dir, {
    T1: { path_to_search: "data", filename_contains: "T1", spatial_window_size: window },
    target: { path_to_search: "data", filename_contains: "label", spatial_window_size: window },
    SYSTEM: { model_dir: "model", random_seed: 5 },
    NETWORK: { name: "toynet", batch_size: 2 },
    TRAINING: {
      max_iter: 3,
      save_every_n: 0,
      lr: 0.01,
      loss_type: "L2Loss",
      exclude_fraction_for_inference: 0.5,
      ...training,
    },
    EVALUATION: { evaluations: "mse,mae" },
    REGRESSION: { image: "T1", output: "target", loss_border: 1 },
  });
}

Deno.test("cropBorder removes loss_border voxels from each spatial side only", () => {
  const t = tf.zeros([2, 8, 6, 4, 3]);
  assertEquals(cropBorder(t, 1).shape, [2, 6, 4, 2, 3]);
  assertEquals(cropBorder(t, 0).shape, [2, 8, 6, 4, 3]);
  tf.dispose(t);
});

Deno.test("regression end to end: float32 outputs on the input's grid and affine, mse/mae evaluation CSV", async () => {
  assertEquals(findApplication("REGRESSION")?.name, "regression");
  const dir = await Deno.makeTempDir();
  await phantomData(dir, 4);
  const config = await regressionConfig(dir);
  const before = tf.memory().numTensors;
  const log = () => {};
  await runAction("train", config, [], { log, handleSignals: false });
  await runAction("infer", config, [], { log });
  const rows = await inferredRows(dir);
  assertEquals(rows.length, 2);
  for (const row of rows) {
    const [id, path] = row.split(",");
    const out = await readImage(path);
    const input = await readImage(join(dir, "data", `${id}_T1.nii.gz`));
    assertEquals(out.shape, input.shape);
    assertEquals(out.affine, input.affine);
    assertEquals(out.datatype, "float32");
    assert(Array.from(out.data as ArrayLike<number>).some((v) => !Number.isInteger(v)), "real-valued output");
  }
  await runAction("evaluate", config, [], { log });
  const csv = await evaluationRows(dir);
  assertEquals(csv[0], "subject_id,label,mse,mae");
  assertEquals(csv.length, 3);
  assertEquals(tf.memory().numTensors, before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loss_type may name a module path exporting loss definitions (a plugin)", async () => {
  const dir = await Deno.makeTempDir();
  await phantomData(dir, 2, [6, 6, 4]);
  const plugin = new URL("./_applications_loss_plugin.ts", import.meta.url);
  const config = await regressionConfig(
    dir,
    { loss_type: plugin.pathname, exclude_fraction_for_inference: 0 },
    "(4, 4, 4)",
  );
  const { calls } = await import(plugin.href);
  const before = calls.count;
  await runAction("train", config, [], { log: () => {}, handleSignals: false });
  assert(calls.count > before, "the plugin's loss was used");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("regression keeps the tensor count constant over 200 training iterations", async () => {
  const dir = await Deno.makeTempDir();
  await phantomData(dir, 2, [6, 6, 4]);
  const config = await regressionConfig(dir, { max_iter: 200, exclude_fraction_for_inference: 0 }, "(4, 4, 4)");
  await assertFlatTensorCount(config, { overrides: ["--batch_size", "1"] });
  await Deno.remove(dir, { recursive: true });
});
