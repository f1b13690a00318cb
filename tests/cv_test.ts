import assert from "node:assert/strict";
import { join } from "node:path";
import { writePhantomDataset } from "../src/commands/demo_data.ts";
import { demoConfig } from "../src/commands/demo.ts";
import { cvCommand, foldsOfShard } from "../src/commands/cv.ts";
import { parseSplit } from "../src/data/mod.ts";
import { assertRejects } from "./_util.ts";

const FOLDS = 3;
const overrides = ["--max_iter", "2", "--save_every_n", "2", "--batch_size", "1", "--sample_per_volume", "1"];

/** The demo's config and data (6 small phantoms, 2 held out for inference) in a temporary folder. */
async function demoSetup(): Promise<{ dir: string; config: string }> {
  const dir = await Deno.makeTempDir();
  await writePhantomDataset(join(dir, "data"), { count: 6, shape: [16, 16, 8] });
  const config = join(dir, "config.ini");
  await Deno.writeTextFile(config, demoConfig({ iterations: 2, window: [16, 16, 8], shape: [16, 16, 8] }));
  return { dir, config };
}

function csvRows(text: string): string[][] {
  return text.trim().split("\n").map((l) => l.split(","));
}

Deno.test("cv on the demo data: disjoint validation folds in the split files, per-fold and mean ± sd CSVs", async () => {
  const { dir, config } = await demoSetup();
  try {
    const lines = await cvCommand({ config, folds: FOLDS, overrides, env: {}, log: () => {} });
    const model = join(dir, "model");
    // Folds: every non-inference subject validates in exactly one fold; inference rows never move.
    const base = parseSplit(await Deno.readTextFile(join(model, "dataset_split.csv")), "base");
    const validated: string[] = [];
    for (let k = 1; k <= FOLDS; k++) {
      const path = join(model, `dataset_split_fold_${k}_of_${FOLDS}.csv`);
      const split = parseSplit(await Deno.readTextFile(path), path);
      for (const [id, phase] of base) {
        if (phase === "inference") assert.equal(split.get(id), "inference");
        else if (split.get(id) === "validation") validated.push(id);
        else assert.equal(split.get(id), "training");
      }
      // The fold inferred (and evaluated) exactly its validation subjects.
      const inferred = csvRows(await Deno.readTextFile(join(model, `fold_${k}_of_${FOLDS}`, "output", "inferred.csv")))
        .map((r) => r[0]).sort();
      assert.deepEqual(inferred, [...split].filter(([, p]) => p === "validation").map(([id]) => id).sort());
    }
    const pool = [...base].filter(([, p]) => p !== "inference").map(([id]) => id).sort();
    assert.deepEqual(validated.sort(), pool);

    // Per fold: the mean of that fold's subjects per label; summary: mean and sd of the fold means.
    const perFold = csvRows(await Deno.readTextFile(join(model, "cv_folds.csv")));
    assert.deepEqual(perFold[0], ["fold", "label", "dice", "hausdorff95_distance"]);
    const summary = csvRows(await Deno.readTextFile(join(model, "cv_summary.csv")));
    assert.deepEqual(summary[0], ["statistic", "label", "dice", "hausdorff95_distance"]);
    for (let k = 1; k <= FOLDS; k++) {
      const evaluation = csvRows(
        await Deno.readTextFile(join(model, `fold_${k}_of_${FOLDS}`, "evaluation", "evaluation.csv")),
      ).slice(1).filter((r) => r[1] === "1");
      const row = perFold.find((r) => r[0] === String(k) && r[1] === "1")!;
      const dice = evaluation.map((r) => Number(r[2]));
      assert.ok(Math.abs(Number(row[2]) - dice.reduce((a, b) => a + b, 0) / dice.length) < 1e-12);
    }
    const foldDice = perFold.slice(1).filter((r) => r[1] === "1").map((r) => Number(r[2]));
    const m = foldDice.reduce((a, b) => a + b, 0) / FOLDS;
    const sd = Math.sqrt(foldDice.reduce((a, b) => a + (b - m) ** 2, 0) / FOLDS);
    assert.ok(Math.abs(Number(summary.find((r) => r[0] === "mean" && r[1] === "1")![2]) - m) < 1e-12);
    assert.ok(Math.abs(Number(summary.find((r) => r[0] === "sd" && r[1] === "1")![2]) - sd) < 1e-12);
    assert.match(lines.join("\n"), /dice \S+ ± \S+/);

    // A re-run keeps the complete folds.
    const again: string[] = [];
    await cvCommand({ config, folds: FOLDS, overrides, env: {}, log: (l) => again.push(l) });
    assert.equal(again.filter((l) => /complete .* kept/.test(l)).length, FOLDS);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cv folds as array tasks: SLURM_ARRAY_TASK_ID picks fold k = id + 1, the summary waits for every fold", async () => {
  assert.deepEqual(foldsOfShard(5, { index: 1, count: 2 }), [2, 4]);
  assert.deepEqual(foldsOfShard(3, undefined), [1, 2, 3]);
  const { dir, config } = await demoSetup();
  try {
    const env = { SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "3" };
    const log: string[] = [];
    const lines = await cvCommand({ config, folds: FOLDS, overrides, env, log: (l) => log.push(l) });
    assert.ok(log.some((l) => l.includes("cv shard 1/3: folds 2")), log.join("\n"));
    assert.match(lines[0], /folds 1, 3 of 3 not finished/);
    const folders = [...Deno.readDirSync(join(dir, "model"))].map((e) => e.name).filter((n) => n.startsWith("fold_"));
    assert.deepEqual(folders, ["fold_2_of_3"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cv refuses --fold/--shard overrides and fewer than 2 folds; a bad fold key names the expected form", async () => {
  await assertRejects(() => cvCommand({ config: "x.ini", folds: 1 }), "invalid --folds 1");
  await assertRejects(() => cvCommand({ config: "x.ini", folds: 3, overrides: ["--fold", "1/3"] }), "set by cv");
  const { dir, config } = await demoSetup();
  try {
    const { runActionCommand } = await import("../src/commands/run_action.ts");
    await assertRejects(
      () => runActionCommand("train", { config, overrides: ["--fold", "4/3"], log: () => {} }),
      "expected k/K with 1 <= k <= K",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
