/**
 * `deno task bench [--quick]`: the same convolution, transposed-convolution, U-Net training and sliding-window
 * inference cases in NiftyTS and in PyTorch (Debian's /usr/bin/python3, `bench/reference/torch_bench.py`), run one
 * after the other in one invocation on the same thread count; prints a table of median times and ratios
 * (PyTorch ms / NiftyTS ms: above 1 means NiftyTS is faster), the peak RSS of a U-Net training process on both
 * sides and a per-kernel profile of one NiftyTS U-Net step, and writes `bench/results/latest.json`.
 *
 * Options: `--quick` (subset, < 3 minutes), `--threads N` (default 2, for both sides), `--rounds N` (default 2:
 * the sides alternate N times and each case keeps its best median), `--stock` (tfjs's stock cpu kernels instead of
 * the fast ones), `--no-torch` (NiftyTS only), `--out FILE`, `--backend cpu|wasm|webgpu` (default cpu or
 * `NIFTYTS_BACKEND`; every row names it, and device work is waited for before a time is taken),
 * `--torch-device cpu|cuda` (where PyTorch runs; default cpu), `--cases-only` (skip the peak-RSS processes and the
 * per-kernel profile), `--only TEXT` (the cases whose name contains TEXT; updates those rows of an existing `--out`).
 * `--repeats N` caps every case's timed repetitions (both sides).
 * Env `NIFTYTS_BENCH_PYTHON`: the Python that runs the PyTorch side (default `/usr/bin/python3`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { BenchCase } from "./cases.ts";
import { webgpuAdapter } from "./adapter.ts";

const HERE = new URL(".", import.meta.url);
/** The Python with torch: Debian's by default, `NIFTYTS_BENCH_PYTHON` for another (a CUDA build of PyTorch). */
const PYTHON = Deno.env.get("NIFTYTS_BENCH_PYTHON") || "/usr/bin/python3";
const TORCH_SCRIPT = new URL("reference/torch_bench.py", HERE).pathname;
const RSS_SIZE = 64;

/** Where the PyTorch side runs (`--torch-device`). */
let torchDevice = "cpu";

/** One row of `bench/results/latest.json`. */
export interface BenchEntry {
  case: string;
  niftyts_ms: number;
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
}

function peakRssMiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function runCommand(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}): ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return text;
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

async function torchPeakRss(threads: number): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "niftyts_bench_" });
  try {
    await runCommand(PYTHON, [
      TORCH_SCRIPT,
      "--rss",
      String(RSS_SIZE),
      `${dir}/rss.json`,
      "--threads",
      String(threads),
      "--device",
      torchDevice,
    ]);
    return (JSON.parse(await Deno.readTextFile(`${dir}/rss.json`)) as { peak_rss_mib: number }).peak_rss_mib;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function niftyTsPeakRss(flags: string[]): Promise<number> {
  const text = await runCommand(Deno.execPath(), ["run", "-A", new URL(import.meta.url).pathname, ...flags]);
  return (JSON.parse(text.trim().split("\n").at(-1)!) as { peak_rss_mib: number }).peak_rss_mib;
}

/** Runs one `ownProcess` case in a fresh NiftyTS process: its time and the process's peak RSS. */
async function niftyTsOwnProcess(c: BenchCase, flags: string[]): Promise<{ ms: number; mib: number }> {
  const dir = await Deno.makeTempDir({ prefix: "niftyts_bench_" });
  try {
    await Deno.writeTextFile(`${dir}/case.json`, JSON.stringify(c));
    const text = await runCommand(Deno.execPath(), [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--own-process",
      `${dir}/case.json`,
      ...flags,
    ]);
    const r = JSON.parse(text.trim().split("\n").at(-1)!) as { niftyts_ms: number; peak_rss_mib: number };
    return { ms: r.niftyts_ms, mib: r.peak_rss_mib };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs one `ownProcess` case in a fresh PyTorch process: its time and the process's peak RSS. */
async function torchOwnProcess(c: BenchCase, threads: number): Promise<{ ms: number; mib: number; version: string }> {
  const dir = await Deno.makeTempDir({ prefix: "niftyts_bench_" });
  try {
    await Deno.writeTextFile(`${dir}/case.json`, JSON.stringify(c));
    const args = [TORCH_SCRIPT, "--own-process", `${dir}/case.json`, `${dir}/out.json`, "--threads", String(threads)];
    args.push("--device", torchDevice);
    await runCommand(PYTHON, args);
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
  console.log(" RSS ratio = NiftyTS / PyTorch peak RSS of the case's own process, for whole-volume cases)");
}

function fmt(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(digits);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  "))
    .join("\n");
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/") + 1) || "./";
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      threads: { type: "string", default: "2" },
      stock: { type: "boolean", default: false },
      "no-torch": { type: "boolean", default: false },
      out: { type: "string", default: new URL("results/latest.json", HERE).pathname },
      rounds: { type: "string", default: "2" },
      "rss-child": { type: "string" },
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
  const { profileUNetStep, runNiftyTsCase, settle, unetSetup } = await import("./niftyts_cases.ts");
  const status = fast.registerFastCpuKernels();
  const { useBackend } = await import("../src/backend.ts");
  const backend = await useBackend(values.backend);
  const backendFlags = ["--backend", backend];

  if (values["rss-child"] !== undefined) {
    const u = unetSetup(Number(values["rss-child"]));
    for (let i = 0; i < 3; i++) u.step();
    await settle();
    console.log(JSON.stringify({ peak_rss_mib: peakRssMiB() }));
    return;
  }

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
  // whole-volume cases: once per side, each in its own process (their peak memory is part of the result)
  const ownMemory = new Map<string, { niftyts: number; pytorch: number | null }>();
  const childThreads = ["--threads", String(threads), ...(values.stock ? ["--stock"] : []), ...backendFlags];
  for (const c of own) {
    const ours = await niftyTsOwnProcess(c, childThreads);
    niftyts.set(c.case, ours.ms);
    console.log(`  niftyts  ${c.case}: ${fmt(ours.ms)} ms, peak RSS ${fmt(ours.mib, 0)} MiB`);
    let theirs: { ms: number; mib: number; version: string } | null = null;
    if (withTorch) {
      theirs = await torchOwnProcess(c, threads);
      torch.set(c.case, theirs.ms);
      torch.version = theirs.version;
      console.log(`  pytorch  ${c.case}: ${fmt(theirs.ms)} ms, peak RSS ${fmt(theirs.mib, 0)} MiB`);
    }
    ownMemory.set(c.case, { niftyts: ours.mib, pytorch: theirs?.mib ?? null });
  }
  const entries: BenchEntry[] = cases.map((c) => {
    const n = niftyts.get(c.case)!, p = torch.get(c.case) ?? null;
    const entry: BenchEntry = {
      case: c.case,
      niftyts_ms: n,
      pytorch_ms: p,
      ratio: p === null ? null : p / n,
      backend,
      kernel,
      niftyts_mib: null,
      pytorch_mib: null,
      rss_ratio: null,
    };
    const mem = ownMemory.get(c.case);
    if (mem) {
      entry.niftyts_mib = mem.niftyts;
      entry.pytorch_mib = mem.pytorch;
      entry.rss_ratio = mem.pytorch === null ? null : mem.niftyts / mem.pytorch;
    }
    return entry;
  });
  printRows(entries);
  const previousExists = await Deno.stat(values.out!).then(() => true, () => false);
  if (values.only !== undefined && previousExists) {
    // `--only`: update these rows of the existing report, keep everything else in it
    const previous = JSON.parse(await Deno.readTextFile(values.out!)) as { cases: BenchEntry[] };
    const fresh = new Map(entries.map((e) => [e.case, e]));
    const kept = previous.cases.map((e) => fresh.get(e.case) ?? e);
    const added = entries.filter((e) => !previous.cases.some((p) => p.case === e.case));
    await writeAtomically(values.out!, `${JSON.stringify({ ...previous, cases: [...kept, ...added] }, null, 2)}\n`);
    console.log(`\nupdated ${entries.length} row(s) of ${values.out}`);
    return;
  }
  const resolved = values["cases-only"] ? [] : await profileUNetStep(RSS_SIZE);

  const childFlags = [
    "--rss-child",
    String(RSS_SIZE),
    "--threads",
    String(threads),
    ...(values.stock ? ["--stock"] : []),
    ...backendFlags,
  ];
  const memory = {
    case: `U-Net train step ${RSS_SIZE}³ peak RSS (MiB, whole process)`,
    niftyts_mib: values["cases-only"] ? null : await niftyTsPeakRss(childFlags),
    pytorch_mib: withTorch && !values["cases-only"] ? await torchPeakRss(threads) : null,
  };

  const memRatio = memory.pytorch_mib === null || memory.niftyts_mib === null
    ? null
    : memory.niftyts_mib / memory.pytorch_mib;
  if (!values["cases-only"]) {
    console.log(
      `\n${memory.case}: NiftyTS ${fmt(memory.niftyts_mib, 0)}, PyTorch ${fmt(memory.pytorch_mib, 0)} ` +
        `(NiftyTS / PyTorch ${fmt(memRatio, 2)})`,
    );
    const total = resolved.reduce((s, k) => s + k.ms, 0);
    console.log(
      `\nNiftyTS U-Net ${RSS_SIZE}³ train step, time per kernel (tf.profile, ${fmt(total, 0)} ms in kernels):`,
    );
    console.log(table([
      ["kernel", "ms", "calls", "share"],
      ...resolved.slice(0, 14).map((k) => [k.kernel, fmt(k.ms), String(k.calls), `${fmt((100 * k.ms) / total, 0)}%`]),
    ]));
  }
  const implementations = fast.fastKernelImplementations();
  if (implementations.length) console.log(`\noneDNN implementations: ${implementations.join(", ")}`);

  const report = {
    date: new Date().toISOString(),
    quick: values.quick,
    threads,
    backend,
    adapter,
    kernel,
    kernel_status: status,
    rounds,
    torch: torch.version ?? null,
    torch_device: withTorch ? torchDevice : null,
    cases: entries,
    memory: { ...memory, ratio: memRatio },
    profile_unet_step: resolved,
    onednn_implementations: implementations,
  };
  await writeAtomically(values.out!, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${values.out}`);
}

if (import.meta.main) await main();
