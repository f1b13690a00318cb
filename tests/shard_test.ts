/** The shard module: parsing, the stable hash against an independent reference, partitions, the environment. */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
  throws as assertThrows,
} from "node:assert/strict";
import { mergeCommand } from "../src/commands/merge.ts";
import { formatCsv, parseEvaluationCsv } from "../src/evaluation/mod.ts";
import {
  parseShard,
  parseShardFileName,
  resolveShard,
  selectShard,
  shardFileName,
  shardFromEnv,
  shardIndexOf,
  subjectHash,
} from "../src/util/shard.ts";
import { shardOverride } from "../src/commands/run_action.ts";

const fixture = JSON.parse(await Deno.readTextFile(new URL("./fixtures/shard_hash.json", import.meta.url))) as {
  ids: string[];
  hash: number[];
  shards: Record<string, number[]>;
};

Deno.test("subject hash and shard index equal the Python reference (FNV-1a + fmix32), unicode ids included", () => {
  assertEquals(fixture.ids.map(subjectHash), fixture.hash);
  for (const [n, expected] of Object.entries(fixture.shards)) {
    assertEquals(fixture.ids.map((id) => shardIndexOf(id, Number(n))), expected, `n = ${n}`);
  }
});

Deno.test("shards partition the subjects: each in exactly one, order kept, unchanged when others are added", () => {
  const ids = Array.from({ length: 200 }, (_, k) => `case_${k}`);
  for (const count of [1, 2, 3, 8]) {
    const parts = Array.from({ length: count }, (_, index) => selectShard(ids, { index, count }));
    assertEquals(parts.flat().sort(), [...ids].sort());
    for (const part of parts) assertEquals(part, ids.filter((id) => part.includes(id)));
    if (count === 8) assert(parts.every((p) => p.length > 10), "roughly balanced");
  }
  const grown = [...ids, "late_1", "late_2"];
  const before = selectShard(ids, { index: 1, count: 3 });
  assertEquals(selectShard(grown, { index: 1, count: 3 }).filter((id) => ids.includes(id)), before);
  assertEquals(selectShard(ids, undefined), ids);
  assertEquals(selectShard([{ id: "a" }], { index: shardIndexOf("a", 2), count: 2 }, (s) => s.id), [{ id: "a" }]);
});

Deno.test("parseShard accepts i/n with 0 <= i < n and names the bad value", () => {
  assertEquals(parseShard("0/1"), { index: 0, count: 1 });
  assertEquals(parseShard(" 2 / 3 "), { index: 2, count: 3 });
  for (const bad of ["3/3", "1/0", "-1/3", "a/3", "1", ""]) {
    assertThrows(() => parseShard(bad), new RegExp(`invalid shard "${bad}"`));
  }
});

Deno.test("the shard comes from --shard, else Slurm array variables, else JOB_COMPLETION_INDEX + NIFTYTS_SHARD_COUNT", () => {
  const slurm = { SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_MIN: "1" };
  assertEquals(shardFromEnv(slurm)?.shard, { index: 2, count: 4 });
  assertEquals(shardFromEnv({ SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "2" })?.shard, { index: 0, count: 2 });
  assertEquals(
    shardFromEnv({ SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_COUNT: "3", SLURM_ARRAY_TASK_STEP: "2" })?.shard,
    { index: 2, count: 3 },
  );
  assertEquals(shardFromEnv({ JOB_COMPLETION_INDEX: "1", NIFTYTS_SHARD_COUNT: "5" }), {
    shard: { index: 1, count: 5 },
    source: "JOB_COMPLETION_INDEX/NIFTYTS_SHARD_COUNT",
  });
  assertEquals(shardFromEnv({}), undefined);
  assertEquals(resolveShard("1/2", slurm), { shard: { index: 1, count: 2 }, source: "--shard" });
  assertEquals(resolveShard(undefined, slurm)?.source, "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT");
  assertThrows(() => shardFromEnv({ JOB_COMPLETION_INDEX: "1" }), /NIFTYTS_SHARD_COUNT is not/);
  assertThrows(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: "1" }), /SLURM_ARRAY_TASK_COUNT is not/);
  assertThrows(
    () => shardFromEnv({ SLURM_ARRAY_TASK_ID: "x", SLURM_ARRAY_TASK_COUNT: "2" }),
    /SLURM_ARRAY_TASK_ID="x"/,
  );
  assertThrows(() => shardFromEnv({ JOB_COMPLETION_INDEX: "5", NIFTYTS_SHARD_COUNT: "5" }), /not below/);

  const printed: string[] = [];
  assertEquals(shardOverride(["--max_iter", "2"], slurm, (l) => printed.push(l)), ["--shard", "2/4"]);
  assertEquals(printed, ["shard 2/4 (from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT)"]);
  assertEquals(shardOverride(["--shard=0/2"], slurm, () => {}), []);
  assertEquals(shardOverride([], {}, () => {}), []);
});

Deno.test("per-shard file names keep the extension and read back", () => {
  assertEquals(shardFileName("out/inferred.csv", { index: 1, count: 3 }), "out/inferred_shard_1_of_3.csv");
  assertEquals(shardFileName("evaluation", { index: 0, count: 2 }), "evaluation_shard_0_of_2");
  assertEquals(parseShardFileName("out/inferred_shard_1_of_3.csv"), {
    shard: { index: 1, count: 3 },
    merged: "out/inferred.csv",
  });
  assertEquals(parseShardFileName("inferred.csv"), undefined);
  assertEquals(parseShardFileName("x_shard_3_of_3.csv"), undefined);
});

Deno.test("merge refuses mixed headers and subjects in the wrong shard; evaluation CSVs read back exactly", async () => {
  const dir = await Deno.makeTempDir();
  const a = `${dir}/t_shard_0_of_2.csv`, b = `${dir}/t_shard_1_of_2.csv`;
  const wrong = ["s1", "s2", "s3", "s4"].find((id) => shardIndexOf(id, 2) === 1)!;
  await Deno.writeTextFile(a, `subject_id,volume\n${wrong},3\n`);
  await Deno.writeTextFile(b, `subject_id,vol\n`);
  await assertRejects(
    mergeCommand([a, b], { out: `${dir}/m.csv` }),
    (e: Error) =>
      e.message.includes("different headers") &&
      e.message.includes(`"${wrong}" in shard 0/2, belongs to 1/2`),
  );
  const text = 'subject_id,label,dice,hd\n"a,b",1,0.5,nan\nc,foreground,1,inf\n';
  const table = parseEvaluationCsv(text, "e.csv");
  assertEquals(table.evaluations, ["dice", "hd"]);
  assertEquals(table.rows[0], { subjectId: "a,b", label: "1", values: { dice: 0.5, hd: NaN } });
  assertEquals(formatCsv(table.rows, { evaluations: table.evaluations }), text);
  assertThrows(() => parseEvaluationCsv("id,x\n", "e.csv"), /"e.csv": expected an evaluation CSV/);
  await Deno.remove(dir, { recursive: true });
});
