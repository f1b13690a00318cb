/** Sharded zoo runs: shard tables of finished scans, resumption that redoes only missing or broken outputs, merge. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { writeNifti } from "../src/io/mod.ts";
import { testImage } from "./_applications_data.ts";
import { scanId, volumeSidecar, ZooShard } from "../src/commands/zoo_shard.ts";
import { mergeCommand } from "../src/commands/merge.ts";
import { selectShard } from "../src/util/shard.ts";

Deno.test("zoo run shards: per-shard volume tables merge to every scan once; a re-run redoes only missing/broken outputs", async () => {
  const dir = await Deno.makeTempDir();
  const scans = ["s1", "s2", "s3", "s4", "s5", "s6"].map((s) => join(dir, "in", `${s}.nii.gz`));
  const out = join(dir, "out");
  const outputOf = (scan: string) => join(out, `${scanId(scan)}_seg.nii.gz`);
  const segment = async (scan: string) => {
    await writeNifti(outputOf(scan), testImage(new Uint8Array(8).fill(1), [2, 2, 2]));
    await Deno.writeTextFile(volumeSidecar(outputOf(scan)), `label,name,voxels,volume_ml\n1,brain,8,0.054\n`);
  };
  const lines: string[] = [];
  const log = (l: string) => void lines.push(l);
  const tables: string[] = [];
  for (const index of [0, 1]) {
    const plan = await ZooShard.plan(scans, { shard: { index, count: 2 }, out, outputOf, log });
    assertEquals(plan.todo, selectShard(scans, { index, count: 2 }, scanId));
    for (const scan of plan.todo) {
      await segment(scan);
      await plan.finished(scan);
    }
    tables.push(plan.table);
  }
  assert(lines.some((l) => /^shard 0\/2 s\d: segmented in [\d.]+ s, rss \d+ MiB/.test(l)), lines.join("\n"));
  await mergeCommand(tables, { out: join(out, "volumes.csv") });
  assertEquals(
    await Deno.readTextFile(join(out, "volumes.csv")),
    "subject_id,label,name,voxels,volume_ml\n" + scans.map((s) => `${scanId(s)},1,brain,8,0.054\n`).join(""),
  );

  // Break one output of shard 0 (truncated file) and re-plan: only that scan is to do.
  const mine = selectShard(scans, { index: 0, count: 2 }, scanId);
  const bytes = await Deno.readFile(outputOf(mine[0]));
  await Deno.writeFile(outputOf(mine[0]), bytes.subarray(0, 20));
  lines.length = 0;
  const again = await ZooShard.plan(scans, { shard: { index: 0, count: 2 }, out, outputOf, log });
  assertEquals(again.todo, [mine[0]]);
  assert(lines[0].includes(`${mine.length - 1} already done, 1 to segment`), lines[0]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli zoo run --shard: a shard whose scans are all done loads no model, keeps them and writes its table", async () => {
  const dir = await Deno.makeTempDir();
  const scans = ["a", "b", "c", "d", "e"].map((s) => join(dir, "in", `${s}.nii.gz`));
  await Deno.mkdir(join(dir, "in"));
  for (const scan of scans) await writeNifti(scan, testImage(new Float32Array(8), [2, 2, 2]));
  const out = join(dir, "out");
  await Deno.mkdir(out);
  const mine = selectShard(scans, { index: 1, count: 2 }, scanId);
  for (const scan of mine) {
    await writeNifti(join(out, `${scanId(scan)}_gwm-light.nii.gz`), testImage(new Uint8Array(8), [2, 2, 2]));
    await Deno.writeTextFile(join(out, `${scanId(scan)}_gwm-light.csv`), "label,name,voxels,volume_ml\n0,bg,8,0.054\n");
  }
  const cli = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", new URL("../cli.ts", import.meta.url).pathname, ...args],
      env: { NIFTYTS_ZOO_MIRROR: join(dir, "no_mirror"), NIFTYTS_CACHE: join(dir, "no_cache") },
    }).output();
  const r = await cli(["zoo", "run", "gwm-light", join(dir, "in"), "-o", out, "--shard", "1/2"]);
  const stdout = new TextDecoder().decode(r.stdout);
  assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
  assert(stdout.includes(`shard 1/2: ${mine.length} of 5 scan(s), ${mine.length} already done, 0 to segment`), stdout);
  assert(stdout.includes(`shard 1/2 summary: ${mine.length} subject(s), 0 segmented now`), stdout);
  assertEquals(
    await Deno.readTextFile(join(out, "volumes_shard_1_of_2.csv")),
    "subject_id,label,name,voxels,volume_ml\n" + mine.map((s) => `${scanId(s)},0,bg,8,0.054\n`).join(""),
  );
  const file = await cli(["zoo", "run", "gwm-light", join(dir, "in"), "-o", join(dir, "x.nii.gz"), "--shard", "0/2"]);
  assertEquals(file.code, 1);
  assert(new TextDecoder().decode(file.stderr).includes("zoo run --shard: -o must be a folder"));
  await Deno.remove(dir, { recursive: true });
});
