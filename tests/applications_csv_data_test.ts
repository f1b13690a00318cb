import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import "../src/applications/mod.ts";
import { runAction } from "../src/engine/mod.ts";
import { parseCsvData } from "../src/data/mod.ts";
import { writeNifti } from "../src/io/mod.ts";
import { RandomStream } from "../src/dsl/random.ts";
import { testImage, writeConfig } from "./_applications_data.ts";
import { evaluationRows, inferredRows } from "./_applications_checks.ts";
import { assertRejects, assertThrows } from "./_util.ts";

const PLUGIN = new URL("./_applications_classifier.ts", import.meta.url).pathname;

Deno.test("csv_data_file parsing: numbers, names in sorted order, one-hot, feature vectors (NiftyNet's CSVReader)", () => {
  const numbers = parseCsvData("s1,2\ns2,0\ns3,1\n", "a.csv");
  assertEquals([numbers.dims, [...numbers.values.get("s1")!]], [1, [2]]);
  const names = parseCsvData("s1,tumour\ns2,healthy\ns3,tumour\n", "a.csv");
  assertEquals(names.classes, ["healthy", "tumour"]);
  assertEquals([...names.values.get("s1")!], [1]);
  const ohe = parseCsvData("s1,10\ns2,9\ns3,2\n", "a.csv", { toOhe: true });
  assertEquals(ohe.classes, ["2", "9", "10"], "numeric levels sort as numbers");
  assertEquals([...ohe.values.get("s1")!], [0, 0, 1]);
  const features = parseCsvData("s1,0.5,3\ns2,1.5,-2\n", "a.csv");
  assertEquals([features.dims, [...features.values.get("s2")!]], [2, [1.5, -2]]);
});

Deno.test("csv_data_file errors name the file, row and value: header, wrong type, duplicate, to_ohe with columns", () => {
  assertThrows(
    () => parseCsvData("subject,label\ns1,0\ns2,1\n", "l.csv"),
    `"l.csv" row 1 ("subject,label") looks like a header`,
  );
  assertThrows(() => parseCsvData("s1,0.5,1\ns2,1,x\n", "l.csv"), `"l.csv" row 2 column 3: expected a number, got "x"`);
  assertThrows(() => parseCsvData("s1,0\ns1,1\n", "l.csv"), `subject "s1" has two rows`);
  assertThrows(
    () => parseCsvData("s1,0,1\ns2,1,0\n", "l.csv", { toOhe: true }),
    "to_ohe needs exactly one value column",
  );
  assertThrows(() => parseCsvData("s1,0\ns2\n", "l.csv"), "row 2: expected 2 columns like row 1, got 1");
});

/** 2D noisy images with a disc of radius 3.5 (class "large") or 1.5 ("small"); the classes only in labels.csv. */
async function discClasses(dir: string, count: number): Promise<Map<string, string>> {
  await Deno.mkdir(join(dir, "data"), { recursive: true });
  const rng = new RandomStream(16);
  const classes = new Map<string, string>();
  for (let k = 0; k < count; k++) {
    const id = `case${String(k).padStart(2, "0")}`;
    const large = k % 2 === 0;
    const [cx, cy] = [4 + rng.uniform() * 2 - 1, 4 + rng.uniform() * 2 - 1];
    const data = new Float32Array(10 * 10);
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 10; x++) {
        const inside = Math.hypot(x - cx, y - cy) < (large ? 3.5 : 1.5);
        data[x + 10 * y] = (inside ? 0.9 : 0.1) + 0.05 * rng.normal();
      }
    }
    await writeNifti(join(dir, "data", `${id}_img.nii.gz`), testImage(data, [10, 10, 1]));
    classes.set(id, large ? "large" : "small");
  }
  return classes;
}

function csvConfig(dir: string, labels: Record<string, string | number>, extra: Record<string, string | number> = {}) {
  return writeConfig(dir, {
    images: { path_to_search: "data", filename_contains: "img", spatial_window_size: "(10, 10, 1)" },
    classes: labels,
    SYSTEM: { model_dir: "model", random_seed: 3 },
    NETWORK: { name: PLUGIN, batch_size: 4, window_sampling: "resize" },
    TRAINING: { max_iter: 60, save_every_n: 0, lr: 0.1, exclude_fraction_for_inference: 0.4, ...extra },
    EVALUATION: { evaluations: "classification_accuracy" },
    CLASSIFICATION: { image: "images", label: "classes", num_classes: 2 },
  });
}

Deno.test("classification from csv_data_file (named classes, to_ohe) on generated discs: held-out accuracy 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const classes = await discClasses(dir, 20);
    // Rows in a different order from the files, no header.
    const rows = [...classes].reverse().map(([id, c]) => `${id},${c}\n`).join("");
    await Deno.writeTextFile(join(dir, "labels.csv"), rows);
    const config = await csvConfig(dir, { csv_data_file: "labels.csv", to_ohe: "True" });
    const log = () => {};
    await runAction("train", config, [], { log, handleSignals: false });
    await runAction("infer", config, [], { log });
    const inferred = await inferredRows(dir);
    assertEquals(inferred.length, 8, "40 % of 20 subjects held out");
    // One-hot over the sorted names: large = 0, small = 1.
    for (const row of inferred) {
      const [id, cls] = row.split(",");
      assertEquals(cls, classes.get(id) === "large" ? "0" : "1", row);
    }
    await runAction("evaluate", config, [], { log });
    const csv = await evaluationRows(dir);
    assertEquals(csv[1], "all,,1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("csv_data_file in a classification run: a missing subject and a class out of range are named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const classes = await discClasses(dir, 4);
    const ids = [...classes.keys()];
    await Deno.writeTextFile(join(dir, "missing.csv"), ids.slice(1).map((id) => `${id},1\n`).join(""));
    const missing = await csvConfig(dir, { csv_data_file: "missing.csv" }, { max_iter: 1 });
    await assertRejects(
      () => runAction("train", missing, [], { log: () => {}, handleSignals: false }),
      `missing.csv" (input section [classes]) has no row for subject "${ids[0]}"`,
    );
    await Deno.writeTextFile(join(dir, "range.csv"), ids.map((id, k) => `${id},${k === 2 ? 5 : 1}\n`).join(""));
    const range = await csvConfig(dir, { csv_data_file: "range.csv" }, { max_iter: 1 });
    await assertRejects(
      () => runAction("train", range, [], { log: () => {}, handleSignals: false }),
      `subject "${ids[2]}" has class 5; expected an integer in [0, 2)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("regression from csv_data_file: one value per subject learned from image brightness (held-out mse << variance)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "data"), { recursive: true });
    const rng = new RandomStream(17);
    const rows: string[] = [];
    const targets: number[] = [];
    for (let k = 0; k < 16; k++) {
      const id = `case${String(k).padStart(2, "0")}`;
      const target = 1 + 2 * rng.uniform();
      const data = Float32Array.from({ length: 36 }, () => target / 3 + 0.02 * rng.normal());
      await writeNifti(join(dir, "data", `${id}_img.nii.gz`), testImage(data, [6, 6, 1]));
      rows.push(`${id},${target}\n`);
      targets.push(target);
    }
    await Deno.writeTextFile(join(dir, "age.csv"), rows.join(""));
    const config = await writeConfig(dir, {
      images: { path_to_search: "data", filename_contains: "img", spatial_window_size: "(6, 6, 1)" },
      age: { csv_data_file: "age.csv" },
      SYSTEM: { model_dir: "model", random_seed: 5 },
      NETWORK: { name: PLUGIN, batch_size: 4, window_sampling: "resize" },
      TRAINING: { max_iter: 150, save_every_n: 0, lr: 0.05, loss_type: "L2Loss", exclude_fraction_for_inference: 0.25 },
      EVALUATION: { evaluations: "mse,mae" },
      REGRESSION: { image: "images", output: "age" },
    });
    const log = () => {};
    await runAction("train", config, [], { log, handleSignals: false });
    await runAction("infer", config, [], { log });
    assertEquals((await inferredRows(dir)).length, 4);
    await runAction("evaluate", config, [], { log });
    const [header, row] = await evaluationRows(dir);
    assertEquals(header, "subject_id,label,mse,mae");
    const mse = Number(row.split(",")[2]);
    const mean = targets.reduce((a, b) => a + b, 0) / targets.length;
    const variance = targets.reduce((a, b) => a + (b - mean) ** 2, 0) / targets.length;
    if (!(mse < variance / 10)) throw new Error(`held-out mse ${mse} is not << the targets' variance ${variance}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
