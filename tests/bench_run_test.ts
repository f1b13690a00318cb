/**
 * `deno task bench` (issue 14): a case's own process that runs past `--timeout-min` is stopped, and its row keeps
 * the case with empty columns and a note saying why, instead of the whole bench failing or the row vanishing.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("bench --timeout-min stops a case's own process and the row's note says so, with no times", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/bench.json`;
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}bench/run.ts`, "--only", "ToyNet", "--no-torch", "--cases-only", "--timeout-min"]
        .concat(["0.0001", "--out", out]),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
    assertEquals(run.code, 0, text);
    const report = JSON.parse(await Deno.readTextFile(out));
    assertEquals(report.cases.length, 1);
    const row = report.cases[0];
    assertEquals([row.niftyts_ms, row.pytorch_ms, row.ratio, row.niftyts_mib, row.rss_ratio], [
      null,
      null,
      null,
      null,
      null,
    ]);
    assert(/^NiftyTS side stopped after 0\.0 min \(--timeout-min\)/.test(row.note), row.note);
    assert(!Number.isNaN(Date.parse(row.date)), row.date);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
