/**
 * `bench/gpu.sh` (issue 12): passes bash -n and shellcheck, and in `--smoke` mode on whatever WebGPU adapter Deno
 * finds (in CI the llvmpipe software adapter) prints the adapter and writes the bench's JSON rows for the webgpu
 * backend: the same fields as the cpu rows of `bench/results/latest.json`, plus the adapter. Skips the run, with
 * the reason, when there is no adapter.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { webgpuAvailable } from "./_backend_parity.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const SCRIPT = `${ROOT}bench/gpu.sh`;
const decoder = new TextDecoder();
const gpu = await webgpuAvailable();

async function run(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

function hasCommand(name: string): boolean {
  try {
    return new Deno.Command(name, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

Deno.test("bench/gpu.sh passes bash -n and shellcheck and rejects an unknown option with one line", async () => {
  const syntax = await run("bash", ["-n", SCRIPT]);
  assertEquals(syntax.code, 0, syntax.stderr);
  if (hasCommand("shellcheck")) {
    const lint = await run("shellcheck", ["--shell=bash", SCRIPT]);
    assertEquals(lint.code, 0, lint.stdout + lint.stderr);
  } else {
    console.warn("bench/gpu.sh: shellcheck not installed (Debian package shellcheck; .ci/run installs it)");
  }
  const bad = await run("bash", [SCRIPT, "--fast"]);
  assertEquals(bad.code, 2);
  assertEquals(
    bad.stderr.trim(),
    'gpu.sh: unknown option "--fast" (expected --quick, --smoke, --no-torch, --out FILE or -- bench flags)',
  );
});

Deno.test({
  name: `bench/gpu.sh --smoke prints the adapter and writes webgpu rows with the cpu rows' fields${
    gpu.ok ? "" : ` [skipped: ${gpu.reason}]`
  }`,
  ignore: !gpu.ok,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const out = `${dir}/gpu-latest.json`;
      const r = await run("bash", [SCRIPT, "--smoke", "--no-torch", "--out", out]);
      assertEquals(r.code, 0, r.stdout + r.stderr);
      assert(/^WebGPU adapter: \{.*"description"/m.test(r.stdout), r.stdout);
      const report = JSON.parse(await Deno.readTextFile(out));
      assertEquals(report.backend, "webgpu");
      assertEquals(typeof report.adapter.description, "string");
      const reference = JSON.parse(await Deno.readTextFile(`${ROOT}bench/results/latest.json`));
      assertEquals(report.cases.length, 1);
      const row = report.cases[0];
      assertEquals(Object.keys(row).sort(), Object.keys(reference.cases[0]).sort());
      assertEquals(row.case, "ToyNet demo train step (batch 2, 32×32×16, Adam)");
      assertEquals(row.backend, "webgpu");
      assert(row.niftyts_ms > 0, `time ${row.niftyts_ms}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
