/**
 * `deno task bench [--quick]`: the same convolution, transposed-convolution, U-Net training and sliding-window
 * inference cases in NiftyTS and in PyTorch (Debian's /usr/bin/python3, `bench/reference/torch_bench.py`), run one
 * after the other in one invocation on the same thread count; prints a table of median times and ratios
 * (PyTorch ms / NiftyTS ms: above 1 means NiftyTS is faster), with the peak RSS of both sides for the cases timed in
 * a process of their own, and a per-kernel profile of one NiftyTS step of each training-step case run; writes
 * `bench/results/latest.json` and then the README's table from it (`bench/table.ts`).
 *
 * Options: `--quick` (subset: its rows take about 2 minutes on idle cores), `--threads N` (default 2, for both sides), `--rounds N` (default 2:
 * the sides alternate N times and each case keeps its best median), `--stock` (tfjs's stock cpu kernels instead of
 * the fast ones), `--no-torch` (NiftyTS only), `--out FILE`, `--backend cpu|wasm|webgpu` (default cpu or
 * `NIFTYTS_BACKEND`; every row names it, and device work is waited for before a time is taken),
 * `--torch-device cpu|cuda` (where PyTorch runs; default cpu), `--cases-only` (skip the per-kernel profiles),
 * `--only TEXT` (the cases whose name contains TEXT). `--quick` and `--only` update their rows of an existing `--out`
 * and keep the others. `--repeats N` caps every case's timed repetitions (both sides). `--timeout-min M` stops a
 * case's own process (either side) after M minutes; the row then says why it has no time.
 * Env `NIFTYTS_BENCH_PYTHON`: the Python that runs the PyTorch side (default `/usr/bin/python3`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../src/util/atomic_write.ts";
import type { BenchCase } from "./cases.ts";
import { webgpuAdapter } from "./adapter.ts";
import { README_PATH, REPORT_PATH, writeBenchTable } from "./table.ts";

const HERE = new URL(".", import.meta.url);
/** The Python with torch: Debian's by default, `NIFTYTS_BENCH_PYTHON` for another (a CUDA build of PyTorch). */
const PYTHON = Deno.env.get("NIFTYTS_BENCH_PYTHON") || "/usr/bin/python3";
const TORCH_SCRIPT = new URL("reference/torch_bench.py", HERE).pathname;

/** Where the PyTorch side runs (`--torch-device`). */
let torchDevice = "cpu";

/** One row of `bench/results/latest.json`. */
export interface BenchEntry {
  case: string;
  /** null where the NiftyTS side did not finish (the note says why). */
  niftyts_ms: number | null;
  pytorch_ms: number | null;
  /** pytorch_ms / niftyts_ms: NiftyTS throughput relative to PyTorch's. */
  ratio: number | null;
  backend: string;
  kernel: string;
  /** Peak RSS of the case's own process, for cases timed in one (`ownProcess`); null for the others. */
  niftyts_mib: number | null;
  pytorch_mib: number | null;
  /** niftyts_mib / pytorch_mib: NiftyTS's peak memory relative to PyTorch's (≤ 1 is less memory). */
  rss_ratio: number | null;
  /** When the row was measured (ISO 8601). */
  date: string;
  /** Why a value is missing (a side that did not finish), else null. */
  note: string | null;
}

/** Time per kernel name in one NiftyTS step (ms summed over calls), largest first. */
export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
}

function peakRssMiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

// Opening oneDNN shortens libgomp's spin in this process (src/kernels/fast/_dnnl_ffi.ts): the children, PyTorch's
// above all, get the environment the bench started with, so PyTorch runs with its users' defaults.
const STARTING_GOMP_SPINCOUNT = Deno.env.get("GOMP_SPINCOUNT");

/** This process's environment with `GOMP_SPINCOUNT` as it was at start (for child processes). */
function childEnv(): Record<string, string> {
  const env = Deno.env.toObject();
  if (STARTING_GOMP_SPINCOUNT === undefined) delete env.GOMP_SPINCOUNT;
  else env.GOMP_SPINCOUNT = STARTING_GOMP_SPINCOUNT;
  return env;
}

/** Runs `cmd` to completion and returns its stdout; throws naming the command and its stderr when it fails. */
async function runCommand(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", clearEnv: true, env: childEnv() })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}): ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return text;
}

/** A case's own process that did not finish: the one-line reason goes into the row's note. */
class ChildFailed extends Error {}

function childPeakMiB(pid: number): number | null {
  try {
    const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1] ?? NaN);
    return Number.isFinite(kb) ? kb / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Runs a case's own process and returns its stdout; throws {@link ChildFailed} with a one-line reason when it fails
 * or runs past `timeoutMs` (then it is killed, and the reason gives its peak RSS so far).
 */
async function runChild(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", clearEnv: true, env: childEnv() })
    .spawn();
  const started = performance.now();
  let stoppedAt: number | null = null, peak: number | null = null;
  const timer = Number.isFinite(timeoutMs)
    ? setTimeout(() => {
      peak = childPeakMiB(child.pid);
      stoppedAt = performance.now() - started;
      child.kill("SIGKILL");
    }, timeoutMs)
    : undefined;
  const out = await child.output();
  clearTimeout(timer);
  if (stoppedAt !== null) {
    const rss = peak === null ? "" : `, at ${Math.round(peak)} MiB peak RSS`;
    throw new ChildFailed(`stopped after ${(stoppedAt / 60_000).toFixed(1)} min (--timeout-min)${rss}`);
  }
  if (!out.success) {
    const last = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ?? "";
    const how = out.signal
      ? `killed by ${out.signal}${out.signal === "SIGKILL" ? " (out of memory?)" : ""}`
      : `exit ${out.code}`;
    throw new ChildFailed(`failed (${how})${last ? `: ${last}` : ""}`);
  }
  return new TextDecoder().decode(out.stdout);
}

async function torchAvailable(): Promise<boolean> {
  try {
    const check = torchDevice === "cuda"
      ? "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"
      : "import torch";
    await runCommand(PYTHON, ["-c", check]);
    return true;
  } catch {
    return false;
  }
}

async function runTorch(cases: BenchCase[], threads: number): Promise<Map<string, number> & { version?: string }> {
  const dir = await Deno.makeTempDir({ prefix: "niftyts_bench_" });
  try {
    const input = `${dir}/cases.json`, output = `${dir}/torch.json`;
    await Deno.writeTextFile(input, JSON.stringify(cases));
    await runCommand(PYTHON, [TORCH_SCRIPT, input, output, "--threads", String(threads), "--device", torchDevice]);
    const result = JSON.parse(await Deno.readTextFile(output)) as {
      torch: string;
      cases: Array<{ case: string; pytorch_ms: number }>;
    };
    const map: Map<string, number> & { version?: string } = new Map(result.cases.map((c) => [c.case, c.pytorch_ms]));
    map.version = result.torch;
    return map;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs one `ownProcess` case in a fresh NiftyTS process: its time and the process's peak RSS. */
async function niftyTsOwnProcess(
  c: BenchCase,
  flags: string[],
  timeoutMs: number,
): Promise<{ ms: number; mib: number }> {
  const dir = await Deno.makeTempDir({ prefix: "niftyts_bench_" });
  try {
    await Deno.writeTextFile(`${dir}/case.json`, JSON.stringify(c));
    const self = new URL(import.meta.url).pathname;
    const text = await runChild(
      Deno.execPath(),
      ["run", "-A", self, "--own-process", `${dir}/case.json`, ...flags],
      timeoutMs,
    );
    const r = JSON.parse(text.trim().split("\n").at(-1)!) as { niftyts_ms: number; peak_rss_mib: number };
    return { ms: r.niftyts_ms, mib: r.peak_rss_mib };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs one `ownProcess` case in a fresh PyTorch process: its time and the process's peak RSS. */
async function torchOwnProcess(
  c: BenchCase,
  threads: number,
  timeoutMs: number,
): Promise<{ ms: number; mib: number; version: string }> {
  const dir = await Deno.makeTempDir({ prefix: "niftyts_bench_" });
  try {
    await Deno.writeTextFile(`${dir}/case.json`, JSON.stringify(c));
    const args = [TORCH_SCRIPT, "--own-process", `${dir}/case.json`, `${dir}/out.json`, "--threads", String(threads)];
    args.push("--device", torchDevice);
    await runChild(PYTHON, args, timeoutMs);
    const r = JSON.parse(await Deno.readTextFile(`${dir}/out.json`)) as {
      torch: string;
      pytorch_ms: number;
      peak_rss_mib: number;
    };
    return { ms: r.pytorch_ms, mib: r.peak_rss_mib, version: r.torch };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function printRows(entries: BenchEntry[]): void {
  const rows = [["case", "NiftyTS ms", "PyTorch ms", "ratio", "NiftyTS MiB", "PyTorch MiB", "RSS ratio"]];
  for (const e of entries) {
    rows.push([
      e.case,
      fmt(e.niftyts_ms),
      fmt(e.pytorch_ms),
      fmt(e.ratio, 2),
      fmt(e.niftyts_mib, 0),
      fmt(e.pytorch_mib, 0),
      fmt(e.rss_ratio, 2),
    ]);
  }
  console.log(`\n${table(rows)}`);
  console.log("(ratio = PyTorch ms / NiftyTS ms: NiftyTS throughput relative to PyTorch; ≥ 1 is parity or better;");
  console.log(" RSS ratio = NiftyTS / PyTorch peak RSS of the case's own process, for the cases that run in one)");
  for (const e of entries) if (e.note) console.log(`${e.case}: ${e.note}`);
}

function fmt(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(digits);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  "))
    .join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      threads: { type: "string", default: "2" },
      stock: { type: "boolean", default: false },
      "no-torch": { type: "boolean", default: false },
      out: { type: "string", default: REPORT_PATH },
      rounds: { type: "string", default: "2" },
      "timeout-min": { type: "string" },
      "own-process": { type: "string" },
      only: { type: "string" },
      backend: { type: "string" },
      "torch-device": { type: "string", default: "cpu" },
      "cases-only": { type: "boolean", default: false },
      repeats: { type: "string" },
    },
  });
  if (values["torch-device"] !== "cpu" && values["torch-device"] !== "cuda") {
    throw new Error(`--torch-device must be cpu or cuda, got "${values["torch-device"]}"`);
  }
  torchDevice = values["torch-device"]!;
  const threads = Number(values.threads), rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`--rounds must be a positive integer, got "${values.rounds}"`);
  }
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`--threads must be a positive integer, got "${values.threads}"`);
  }
  // oneDNN's OpenMP runtime reads these when the library is opened, i.e. when the kernels module is imported below.
  Deno.env.set("OMP_NUM_THREADS", String(threads));
  if (values.stock) Deno.env.set("NIFTYTS_FAST_KERNELS", "off");
  const fast = await import("../src/kernels/fast/mod.ts");
  const { benchCases } = await import("./cases.ts");
  const { profileTrainStep, runNiftyTsCase } = await import("./niftyts_cases.ts");
  const status = fast.registerFastCpuKernels();
  const { useBackend } = await import("../src/backend.ts");
  const backend = await useBackend(values.backend);
  const backendFlags = ["--backend", backend];

  if (values["own-process"] !== undefined) {
    const c = JSON.parse(await Deno.readTextFile(values["own-process"])) as BenchCase;
    const ms = await runNiftyTsCase(c);
    console.log(JSON.stringify({ niftyts_ms: ms, peak_rss_mib: peakRssMiB() }));
    return;
  }

  const maxRepeats = values.repeats === undefined ? Infinity : Number(values.repeats);
  if (!(maxRepeats >= 1) || (values.repeats !== undefined && !Number.isInteger(maxRepeats))) {
    throw new Error(`--repeats must be a positive integer, got "${values.repeats}"`);
  }
  const timeoutMs = values["timeout-min"] === undefined ? Infinity : Number(values["timeout-min"]) * 60_000;
  if (!(timeoutMs > 0)) throw new Error(`--timeout-min must be a positive number, got "${values["timeout-min"]}"`);
  const cases = benchCases({ quick: values.quick }).filter((c) => !values.only || c.case.includes(values.only))
    .map((c) => ({ ...c, repeats: Math.min(c.repeats, maxRepeats) }));
  const shared = cases.filter((c) => !c.ownProcess), own = cases.filter((c) => c.ownProcess);
  const adapter = backend === "webgpu" ? await webgpuAdapter() : null;
  const kernel = status.kernel === "onednn" && backend === "cpu" ? "onednn" : "tfjs-stock";
  console.log(
    `NiftyTS bench: backend ${backend}${
      adapter ? ` (${adapter.description}${adapter.fallback ? ", software" : ""})` : ""
    }, ` +
      `conv kernel ${kernel}${status.reason && backend === "cpu" ? ` (${status.reason})` : ""}, ` +
      `${threads} thread(s), ${cases.length} cases${values.quick ? " (--quick)" : ""}, PyTorch on ${torchDevice}`,
  );
  const withTorch = !values["no-torch"] && await torchAvailable();
  if (!values["no-torch"] && !withTorch) {
    const what = torchDevice === "cuda" ? "use torch with CUDA" : "import torch";
    console.warn(`bench: ${PYTHON} cannot ${what}; PyTorch columns left empty`);
  }
  // Rounds alternate the two sides and keep each case's best median: load from other processes comes and goes,
  // and both sides' thread teams suffer from it, so one round can be unfair to either.
  const niftyts = new Map<string, number>(), torch: Map<string, number> & { version?: string } = new Map();
  const keepBest = (into: Map<string, number>, key: string, ms: number) =>
    into.set(key, Math.min(ms, into.get(key) ?? Infinity));
  for (let round = 1; round <= rounds && shared.length > 0; round++) {
    for (const c of shared) {
      const ms = await runNiftyTsCase(c);
      keepBest(niftyts, c.case, ms);
      console.log(`  round ${round} niftyts  ${c.case}: ${fmt(ms)} ms`);
    }
    if (withTorch) {
      const result = await runTorch(shared, threads);
      result.forEach((ms, key) => keepBest(torch, key, ms));
      torch.version = result.version;
      console.log(`  round ${round} pytorch  done`);
    }
  }
  // whole-volume, sliding-window and training-step cases: once per side, each in its own process (their peak memory
  // is part of the result); a side that does not finish leaves its columns empty and says why in the row's note
  const ownMemory = new Map<string, { niftyts: number | null; pytorch: number | null }>();
  const notes = new Map<string, string>();
  const childThreads = ["--threads", String(threads), ...(values.stock ? ["--stock"] : []), ...backendFlags];
  const sideFailed = (side: string, c: BenchCase, e: unknown) => {
    if (!(e instanceof ChildFailed)) throw e;
    const note = `${side} side ${e.message}`;
    notes.set(c.case, notes.has(c.case) ? `${notes.get(c.case)}; ${note}` : note);
    console.log(`  ${side.toLowerCase().padEnd(8)} ${c.case}: ${note}`);
  };
  for (const c of own) {
    let ours: { ms: number; mib: number } | null = null;
    try {
      ours = await niftyTsOwnProcess(c, childThreads, timeoutMs);
      niftyts.set(c.case, ours.ms);
      console.log(`  niftyts  ${c.case}: ${fmt(ours.ms)} ms, peak RSS ${fmt(ours.mib, 0)} MiB`);
    } catch (e) {
      sideFailed("NiftyTS", c, e);
    }
    let theirs: { ms: number; mib: number; version: string } | null = null;
    if (withTorch) {
      try {
        theirs = await torchOwnProcess(c, threads, timeoutMs);
        torch.set(c.case, theirs.ms);
        torch.version = theirs.version;
        console.log(`  pytorch  ${c.case}: ${fmt(theirs.ms)} ms, peak RSS ${fmt(theirs.mib, 0)} MiB`);
      } catch (e) {
        sideFailed("PyTorch", c, e);
      }
    }
    ownMemory.set(c.case, { niftyts: ours?.mib ?? null, pytorch: theirs?.mib ?? null });
  }
  const date = new Date().toISOString();
  const entries: BenchEntry[] = cases.map((c) => {
    const n = niftyts.get(c.case) ?? null, p = torch.get(c.case) ?? null;
    const mem = ownMemory.get(c.case);
    const niftytsMib = mem?.niftyts ?? null, pytorchMib = mem?.pytorch ?? null;
    return {
      case: c.case,
      niftyts_ms: n,
      pytorch_ms: p,
      ratio: p === null || n === null ? null : p / n,
      backend,
      kernel,
      niftyts_mib: niftytsMib,
      pytorch_mib: pytorchMib,
      rss_ratio: niftytsMib === null || pytorchMib === null ? null : niftytsMib / pytorchMib,
      date,
      note: notes.get(c.case) ?? null,
    };
  });
  printRows(entries);

  // a per-kernel profile of one NiftyTS step of each training-step case run (in this process, after the timings)
  const profiles: Record<string, KernelTime[]> = {};
  for (const c of values["cases-only"] ? [] : cases) {
    if (c.kind !== "unet_step" && c.kind !== "highres3dnet_step") continue;
    const kernels = profiles[c.case] = await profileTrainStep(c);
    const total = kernels.reduce((sum, k) => sum + k.ms, 0);
    console.log(`\nNiftyTS ${c.case}, time per kernel (tf.profile, ${fmt(total, 0)} ms in kernels):`);
    console.log(table([
      ["kernel", "ms", "calls", "share"],
      ...kernels.slice(0, 14).map((k) => [k.kernel, fmt(k.ms), String(k.calls), `${fmt((100 * k.ms) / total, 0)}%`]),
    ]));
  }
  const implementations = fast.fastKernelImplementations();
  if (implementations.length) console.log(`\noneDNN implementations: ${implementations.join(", ")}`);

  const report = {
    date,
    threads,
    backend,
    adapter,
    kernel,
    kernel_status: status,
    rounds,
    torch: torch.version ?? null,
    torch_device: withTorch ? torchDevice : null,
    cases: entries,
    profiles,
    onednn_implementations: implementations,
  };
  const partial = values.only !== undefined || values.quick;
  const previous = partial
    ? await Deno.readTextFile(values.out!).then((t) => JSON.parse(t) as typeof report, () => null)
    : null;
  if (previous) {
    // `--quick`, `--only`: update these rows (and their profiles) of the existing report, keep the others
    const fresh = new Map(entries.map((e) => [e.case, e]));
    const kept = previous.cases.map((e) => fresh.get(e.case) ?? e);
    const added = entries.filter((e) => !previous.cases.some((p) => p.case === e.case));
    const merged = {
      ...previous,
      date,
      torch: report.torch ?? previous.torch,
      cases: [...kept, ...added],
      profiles: { ...previous.profiles, ...profiles },
    };
    await writeFileAtomic(values.out!, `${JSON.stringify(merged, null, 2)}\n`);
    console.log(`\nupdated ${entries.length} row(s) of ${values.out}`);
  } else {
    await writeFileAtomic(values.out!, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${values.out}`);
  }
  if (values.out === REPORT_PATH && await writeBenchTable(REPORT_PATH, README_PATH)) {
    console.log(`rewrote the bench table of ${README_PATH}`);
  }
}

if (import.meta.main) await main();
