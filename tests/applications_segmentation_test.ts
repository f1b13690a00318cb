import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import "../src/applications/mod.ts";
import { findApplication } from "../src/engine/application.ts";
import { type ActionResult, listCheckpoints, runAction } from "../src/engine/mod.ts";
import { readImage, writeNifti } from "../src/io/mod.ts";
import { checkerAvailable, checkEventFile } from "./_viz_check.ts";
import { collector, discData, phantomData, TEST_AFFINE, testImage, writeConfig } from "./_applications_data.ts";
import { assertFlatTensorCount, assertRejectsMatching, evaluationRows, inferredRows } from "./_applications_checks.ts";

await useBackend("cpu");

function segmentationConfig(dir: string, training: Record<string, string | number> = {}, window = "(8, 8, 8)") {
  return writeConfig(dir, {
    T1: { path_to_search: "data", filename_contains: "T1", spatial_window_size: window },
    label: { path_to_search: "data", filename_contains: "label", spatial_window_size: window, interp_order: 0 },
    SYSTEM: { model_dir: "model", random_seed: 3 },
    NETWORK: { name: "toynet", batch_size: 2, whitening: "True", volume_padding_size: 1 },
    TRAINING: {
      max_iter: 3,
      save_every_n: 0,
      lr: 0.01,
      loss_type: "DicePlusXEnt",
      exclude_fraction_for_inference: 0.5,
      tensorboard_every_n: 1,
      ...training,
    },
    INFERENCE: { border: "(1, 1, 1)" },
    EVALUATION: { evaluations: "dice,hausdorff95_distance" },
    SEGMENTATION: { image: "T1", label: "label", num_classes: 4, evaluation_units: "label" },
  });
}

Deno.test("segmentation is registered under its NiftyNet name, alias and section", () => {
  assertEquals(findApplication("segmentation")?.section, "SEGMENTATION");
  assertEquals(findApplication("SEGMENTATION")?.name, "segmentation");
});

Deno.test("segmentation end to end: train → checkpoint → inference NIfTI on the input's grid and affine → evaluation CSV", async () => {
  const dir = await Deno.makeTempDir();
  await phantomData(dir, 4);
  const config = await segmentationConfig(dir);
  const before = tf.memory().numTensors;
  const { log, lines } = collector();
  const trained = await runAction("train", config, [], { log, handleSignals: false }) as Extract<
    ActionResult,
    { action: "train" }
  >;
  assertEquals(trained.result.iteration, 3);
  assertEquals(await listCheckpoints(join(dir, "model")), [3]);
  assert(lines.some((l) => /^iter 3\/3 {2}loss /.test(l)), lines.join("\n"));
  const events = [...Deno.readDirSync(join(dir, "model", "logs", "training"))];
  const eventFile = events.find((e) => e.name.startsWith("events.out.tfevents."));
  assert(eventFile, "TensorBoard event file");
  if (checkerAvailable) {
    // Decoded by an independent reader: scalars, the graph, and image slices of input, label and prediction.
    const checked = await checkEventFile(join(dir, "model", "logs", "training", eventFile.name));
    const summaries = checked.events.flatMap((e) => (e.summary ?? []).map((v) => ({ step: e.step, ...v })));
    for (const tag of ["image", "label", "prediction"]) {
      const images = summaries.filter((v) => v.tag === tag && v.image);
      assertEquals(images.map((v) => v.step), [1, 2, 3], `image slices of ${tag}`);
      assertEquals([images[0].image!.height, images[0].image!.width], [8, 8]);
      assert(images[0].image!.png_signature_ok);
    }
    assert(summaries.some((v) => v.tag === "loss" && v.simple_value !== undefined));
    assert(checked.events.some((e) => e.graph_def), "graph");
  }

  await runAction("infer", config, [], { log });
  const split = (await Deno.readTextFile(join(dir, "model", "dataset_split.csv"))).trim().split("\n");
  const inferred = split.filter((l) => l.endsWith(",inference")).map((l) => l.split(",")[0]);
  assertEquals(inferred.length, 2);
  for (const id of inferred) {
    const out = await readImage(join(dir, "model", "output", `${id}_niftynet_out.nii.gz`));
    const input = await readImage(join(dir, "data", `${id}_T1.nii.gz`));
    assertEquals(out.shape, input.shape);
    assertEquals(out.affine, input.affine);
    assertEquals(out.datatype, "int16");
    assert(Array.from(out.data as ArrayLike<number>).every((v) => v >= 0 && v <= 3 && Number.isInteger(v)));
  }
  assertEquals((await inferredRows(dir)).length, 2);

  await runAction("evaluate", config, [], { log });
  const csv = await evaluationRows(dir);
  assertEquals(csv[0], "subject_id,label,dice,hausdorff95_distance");
  assert(csv.slice(1).every((row) => inferred.includes(row.split(",")[0])), csv.join("\n"));
  const summary = await Deno.readTextFile(join(dir, "model", "evaluation", "evaluation_summary.csv"));
  assert(summary.includes("\nmean,"), summary);
  assertEquals(tf.memory().numTensors, before, "no tensor left behind by train, infer and evaluate");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("segmentation validates on the validation subjects, and a resumed run with augmentation (flips, rotation, elastic, bias field) ends with the same weights", async () => {
  const dir = await Deno.makeTempDir();
  const settings = {
    max_iter: 4,
    save_every_n: 2,
    exclude_fraction_for_inference: 0.25,
    exclude_fraction_for_validation: 0.25,
    validation_every_n: 2,
    random_flipping_axes: "0,1",
    rotation_angle: "(-10, 10)",
    do_elastic_deformation: "True",
    deformation_sigma: 2,
    proportion_to_deform: 1,
    bias_field_range: "(-0.5, 0.5)",
  };
  const whole = join(dir, "whole"), parts = join(dir, "parts");
  for (const d of [whole, parts]) {
    await Deno.mkdir(d);
    await phantomData(d, 4, [8, 8, 8]);
  }
  const { lines, log } = collector();
  const a = await runAction("train", await segmentationConfig(whole, settings), [], { log, handleSignals: false });
  assert(lines.some((l) => /^validation at 2: loss \d/.test(l)), lines.join("\n"));
  const config = await segmentationConfig(parts, settings);
  await runAction("train", config, ["--max_iter", "2"], { log, handleSignals: false });
  const b = await runAction("train", config, ["--starting_iter", "-1"], { log, handleSignals: false });
  const wa = (a as Extract<ActionResult, { action: "train" }>).result.weights;
  const wb = (b as Extract<ActionResult, { action: "train" }>).result.weights;
  let worst = 0;
  for (const [name, t] of wa) {
    const u = wb.get(name)!.data;
    t.data.forEach((v, i) => worst = Math.max(worst, Math.abs(Number(v) - Number(u[i]))));
  }
  assert(worst <= 1e-6, `max weight difference ${worst}`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("segmentation keeps the tensor count constant over 200 training iterations", async () => {
  const dir = await Deno.makeTempDir();
  await phantomData(dir, 2, [6, 6, 4]);
  const config = await segmentationConfig(dir, {
    max_iter: 200,
    exclude_fraction_for_inference: 0,
    tensorboard_every_n: 0,
  }, "(4, 4, 4)");
  await assertFlatTensorCount(config, { overrides: ["--batch_size", "1", "--volume_padding_size", "0"] });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("segmentation errors name the config: missing num_classes, unknown loss_type with a suggestion", async () => {
  const dir = await Deno.makeTempDir();
  await phantomData(dir, 2, [6, 6, 4]);
  const config = await segmentationConfig(dir);
  await assertRejectsMatching(
    () => runAction("train", config, ["--num_classes", "-1"], { log: () => {}, handleSignals: false }),
    /num_classes must be set/,
  );
  await assertRejectsMatching(
    () => runAction("train", config, ["--loss_type", "Dise"], { log: () => {}, handleSignals: false }),
    /unknown loss_type Dise.*did you mean Dice/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("segmentation works on 2D images: [b, x, y, c] windows, grid inference writes 2D label maps", async () => {
  const dir = await Deno.makeTempDir();
  const ids = await discData(dir, 4, [10, 9]);
  for (const id of ids) {
    const image = await readImage(join(dir, "data", `${id}_img.nii.gz`));
    const mask = Uint8Array.from(image.data as ArrayLike<number>, (v) => (v > 0.5 ? 1 : 0));
    await writeNifti(join(dir, "data", `${id}_seg.nii.gz`), testImage(mask, [10, 9, 1]));
  }
  const w = "(6, 6, 1)";
  const config = await writeConfig(dir, {
    img: { path_to_search: "data", filename_contains: "img", spatial_window_size: w },
    seg: { path_to_search: "data", filename_contains: "seg", spatial_window_size: w, interp_order: 0 },
    SYSTEM: { model_dir: "model" },
    NETWORK: { name: "toynet", batch_size: 3 },
    TRAINING: { max_iter: 2, save_every_n: 0, exclude_fraction_for_inference: 0.5 },
    SEGMENTATION: { image: "img", label: "seg", num_classes: 2 },
  });
  const log = () => {};
  await runAction("train", config, [], { log, handleSignals: false });
  await runAction("infer", config, [], { log });
  const rows = await inferredRows(dir);
  assertEquals(rows.length, 2);
  const out = await readImage(rows[0].split(",")[1]);
  assertEquals(out.shape, [10, 9, 1, 1, 1]);
  assertEquals(out.affine, TEST_AFFINE);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("label_normalisation and histogram landmarks are learned into histogram_ref_file; predictions map back to label values", async () => {
  const dir = await Deno.makeTempDir();
  await phantomData(dir, 2, [6, 6, 4]);
  for (const e of Deno.readDirSync(join(dir, "data"))) {
    if (!e.name.includes("label")) continue;
    const path = join(dir, "data", e.name);
    const image = await readImage(path);
    const scaled = Uint8Array.from(image.data as ArrayLike<number>, (v) => v * 10);
    await writeNifti(path, { ...image, data: scaled });
  }
  const config = await segmentationConfig(dir, { exclude_fraction_for_inference: 0, max_iter: 2 }, "(4, 4, 4)");
  const log = () => {};
  await runAction("train", config, ["--label_normalisation", "true"], { log, handleSignals: false });
  const ref = await Deno.readTextFile(join(dir, "model", "histogram_ref_file.txt"));
  assert(ref.includes("label_from 0 10 20 30\nlabel_to 0 1 2 3"), ref);
  // Histogram standardisation learns its landmarks on the next training run and adds them to the same file.
  await runAction("train", config, [
    "--label_normalisation",
    "true",
    "--normalisation",
    "true",
    "--starting_iter",
    "-1",
    "--max_iter",
    "3",
  ], {
    log,
    handleSignals: false,
  });
  const both = await Deno.readTextFile(join(dir, "model", "histogram_ref_file.txt"));
  assert(/^T1( [-\d.e]+){13}$/m.test(both) && both.includes("label_from 0 10 20 30"), both);
  await runAction("infer", config, ["--label_normalisation", "true", "--normalisation", "true"], { log });
  const rows = await inferredRows(dir);
  for (const row of rows) {
    const out = await readImage(row.split(",")[1]);
    assert(Array.from(out.data as ArrayLike<number>).every((v) => [0, 10, 20, 30].includes(v)), row);
  }
  await Deno.remove(dir, { recursive: true });
});
