/**
 * Acceptance of sharded inference (issue 17): 12 generated subjects inferred as 3 shards in 3 local processes equal
 * one unsharded run byte for byte; a shard killed with SIGKILL mid-way and re-run infers only what was missing;
 * `merge` names missing and duplicated subjects; sharded evaluation (environment-chosen shard) merges into the
 * unsharded table.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects as assertRejects } from "node:assert/strict";
import { join } from "node:path";
import { phantomData, writeConfig } from "./_applications_data.ts";
import { mergeCommand } from "../src/commands/merge.ts";
import { evaluateCommand } from "../src/commands/evaluate.ts";
import { runActionCommand } from "../src/commands/run_action.ts";
import { selectShard } from "../src/util/shard.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

function command(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    env,
  });
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const out = await command(args, env).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Starts the CLI and SIGKILLs it as soon as a stdout line matches; returns the lines read. */
async function killAfter(args: string[], pattern: RegExp): Promise<{ lines: string[]; status: Deno.CommandStatus }> {
  const child = command(args).spawn();
  const lines: string[] = [];
  let rest = "";
  let killed = false;
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    lines.push(...parts);
    if (!killed && parts.some((l) => pattern.test(l))) {
      child.kill("SIGKILL");
      killed = true;
    }
  }
  await child.stderr.cancel();
  return { lines, status: await child.status };
}

const listed = async (path: string) =>
  (await Deno.readTextFile(path)).trim().split("\n").filter(Boolean).map((l) => l.split(","));

Deno.test("3 shards in 3 processes = one unsharded run byte for byte; SIGKILLed shard resumes; merge names the missing", async () => {
  const dir = await Deno.makeTempDir();
  const ids = await phantomData(dir, 12, [24, 24, 24]);
  const w = "(8, 8, 8)";
  const config = await writeConfig(dir, {
    T1: { path_to_search: "data", filename_contains: "T1", spatial_window_size: w },
    label: { path_to_search: "data", filename_contains: "label", spatial_window_size: w, interp_order: 0 },
    SYSTEM: { model_dir: "model", random_seed: 1 },
    NETWORK: { name: "toynet", batch_size: 4 },
    TRAINING: { max_iter: 1, save_every_n: 0 },
    EVALUATION: { evaluations: "dice" },
    SEGMENTATION: { image: "T1", label: "label", num_classes: 4 },
  });
  const quiet = { log: () => {} };
  await runActionCommand("train", { config, application: "segmentation", ...quiet });

  const full = join(dir, "full"), sharded = join(dir, "sharded"), killed = join(dir, "killed");
  const shards = await Promise.all(
    [0, 1, 2].map((i) => cli(["infer", "-c", config, "--shard", `${i}/3`, "--save_seg_dir", sharded])),
  );
  await runActionCommand("infer", { config, overrides: ["--save_seg_dir", full], ...quiet });
  for (const [i, s] of shards.entries()) {
    assertEquals(s.code, 0, s.stderr);
    const mine = selectShard(ids, { index: i, count: 3 });
    assert(s.stdout.includes(`shard ${i}/3: ${mine.length} of 12 subject(s), 0 already done`), s.stdout);
    for (const id of mine) {
      assert(new RegExp(`^shard ${i}/3 ${id}: inferred in [\\d.]+ s, rss \\d+ MiB`, "m").test(s.stdout));
    }
    assert(s.stdout.includes(`shard ${i}/3 summary: ${mine.length} subject(s)`), s.stdout);
  }
  for (const id of ids) {
    const name = `${id}_niftynet_out.nii.gz`;
    assertEquals(await Deno.readFile(join(sharded, name)), await Deno.readFile(join(full, name)), name);
  }
  const shardLists = [0, 1, 2].map((i) => join(sharded, `inferred_shard_${i}_of_3.csv`));
  const merged = await mergeCommand(shardLists, {
    out: join(sharded, "inferred.csv"),
    expect: join(full, "inferred.csv"),
  });
  assert(merged[0].startsWith("merged 3 file(s): 12 subject(s)"), merged.join("\n"));
  assertEquals(
    (await Deno.readTextFile(join(sharded, "inferred.csv"))).replaceAll(sharded, "X"),
    (await Deno.readTextFile(join(full, "inferred.csv"))).replaceAll(full, "X"),
  );

  // Kill shard 0 after its first subject, then merge: the unfinished subjects are named.
  const mine = selectShard(ids, { index: 0, count: 3 });
  const run = await killAfter(
    ["infer", "-c", config, "--shard", "0/3", "--save_seg_dir", killed],
    /^shard 0\/3 subject\d+: inferred/,
  );
  assertEquals(run.status.signal, "SIGKILL");
  const list = join(killed, "inferred_shard_0_of_3.csv");
  const done = (await listed(list)).map(([id]) => id);
  assert(done.length >= 1 && done.length < mine.length, `killed mid-way: ${done.length} of ${mine.length} done`);
  const missing = mine.filter((id) => !done.includes(id));
  await assertRejects(
    mergeCommand([list, shardLists[1], shardLists[2]], {
      out: join(killed, "inferred.csv"),
      expect: join(full, "inferred.csv"),
    }),
    (e: Error) =>
      missing.every((id) => e.message.includes(`${id} (shard 0/3)`)) &&
      e.message.includes(`${missing.length} subject(s) missing`),
  );
  await assertRejects(Deno.stat(join(killed, "inferred.csv")), "nothing written");
  await assertRejects(
    mergeCommand([shardLists[0], shardLists[2]], { out: join(killed, "m.csv") }),
    /1 shard file\(s\) missing: 1\/3/,
  );
  await assertRejects(
    mergeCommand([...shardLists, list], { out: join(killed, "m.csv") }),
    (e: Error) => e.message.includes(`subject(s) duplicated: "${done[0]}"`),
  );

  // Re-run: the finished outputs are kept (same inode, untouched), only the missing ones are inferred.
  const before = await Promise.all(done.map((id) => Deno.stat(join(killed, `${id}_niftynet_out.nii.gz`))));
  const rerun = await cli(["infer", "-c", config, "--shard", "0/3", "--save_seg_dir", killed]);
  assertEquals(rerun.code, 0, rerun.stderr);
  assert(rerun.stdout.includes(`${done.length} already done, ${missing.length} to infer`), rerun.stdout);
  for (const id of done) assert(rerun.stdout.includes(`shard 0/3 ${id}: already done, kept`), rerun.stdout);
  const inferredNow = [...rerun.stdout.matchAll(/^shard 0\/3 (\S+): inferred/gm)].map((m) => m[1]);
  assertEquals(inferredNow, missing);
  for (const [k, id] of done.entries()) {
    const after = await Deno.stat(join(killed, `${id}_niftynet_out.nii.gz`));
    assertEquals([after.ino, after.mtime], [before[k].ino, before[k].mtime], `${id} was not rewritten`);
  }
  for (const id of mine) {
    const name = `${id}_niftynet_out.nii.gz`;
    assertEquals(await Deno.readFile(join(killed, name)), await Deno.readFile(join(full, name)), name);
  }
  assertEquals((await listed(list)).map(([id]) => id).sort(), [...mine].sort());

  // Sharded evaluation from a Kubernetes-style environment, then merged: same rows as an unsharded evaluation.
  const fromEnv = await cli(["evaluate", "-c", config, "--save_seg_dir", sharded], {
    JOB_COMPLETION_INDEX: "1",
    NIFTYTS_SHARD_COUNT: "3",
  });
  assertEquals(fromEnv.code, 0, fromEnv.stderr);
  assert(fromEnv.stdout.includes("shard 1/3 (from JOB_COMPLETION_INDEX/NIFTYTS_SHARD_COUNT)"), fromEnv.stdout);
  for (const i of [0, 2]) {
    await runActionCommand("evaluate", {
      config,
      overrides: ["--save_seg_dir", sharded, "--shard", `${i}/3`],
      ...quiet,
    });
  }
  const evalDir = join(dir, "model", "evaluation");
  await runActionCommand("evaluate", { config, overrides: ["--save_seg_dir", full], ...quiet });
  await mergeCommand([0, 1, 2].map((i) => join(evalDir, `evaluation_shard_${i}_of_3.csv`)), {
    out: join(dir, "evaluation_merged.csv"),
  });
  for (const suffix of [".csv", "_summary.csv"]) {
    assertEquals(
      await Deno.readTextFile(join(dir, `evaluation_merged${suffix}`)),
      await Deno.readTextFile(join(evalDir, `evaluation${suffix}`)),
      suffix,
    );
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("evaluate --seg/--ref --shard: shards merge into the unsharded table; a re-run keeps finished rows", async () => {
  const dir = await Deno.makeTempDir();
  await phantomData(dir, 5, [10, 10, 8]);
  const data = join(dir, "data");
  for (const e of Deno.readDirSync(data)) {
    if (e.name.endsWith("_label.nii.gz")) {
      await Deno.copyFile(join(data, e.name), join(dir, e.name.replace("_label", "_seg")));
    }
  }
  const common = { seg: dir, ref: data, evaluations: "dice", segPostfix: "_seg", refPostfix: "_label", env: {} };
  await evaluateCommand({ ...common, csv: join(dir, "all.csv") });
  const parts = [0, 1].map((i) => join(dir, `all_shard_${i}_of_2.csv`));
  for (const i of [0, 1]) {
    const lines = await evaluateCommand({ ...common, csv: join(dir, "all.csv"), shard: `${i}/2` });
    assert(lines.includes(`wrote ${parts[i]}`), lines.join("\n"));
  }
  const again = await evaluateCommand({ ...common, csv: join(dir, "all.csv"), shard: "0/2" });
  assert(again.some((l) => /summary: \d+ subject\(s\), 0 evaluated now/.test(l)), again.join("\n"));
  await mergeCommand(parts, { out: join(dir, "merged.csv") });
  assertEquals(await Deno.readTextFile(join(dir, "merged.csv")), await Deno.readTextFile(join(dir, "all.csv")));
  await Deno.remove(dir, { recursive: true });
});
