/**
 * The README's bench table (issue 14) is generated from `bench/results/latest.json` by `deno task bench:table`
 * (`bench/table.ts`): README.md must hold exactly what it renders, so the table cannot drift from the report; and
 * every row of the report that runs in a process of its own carries both ratios, or a note saying why not.
 */
import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert/strict";
import { benchCases } from "../bench/cases.ts";
import type { BenchEntry } from "../bench/run.ts";
import {
  type BenchReport,
  benchTableMarkdown,
  formatMs,
  readmeBenchTable,
  renderBenchTable,
  replaceBenchTable,
  TABLE_END,
  TABLE_START,
} from "../bench/table.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const report = JSON.parse(await Deno.readTextFile(`${ROOT}bench/results/latest.json`)) as BenchReport;

function row(overrides: Partial<BenchEntry>): BenchEntry {
  return {
    case: "conv3d fwd 64³ 8→16 k3",
    niftyts_ms: 7.03,
    pytorch_ms: 5.29,
    ratio: 5.29 / 7.03,
    backend: "cpu",
    kernel: "onednn",
    niftyts_mib: null,
    pytorch_mib: null,
    rss_ratio: null,
    date: "2026-12-06T13:00:00.000Z",
    note: null,
    ...overrides,
  };
}

Deno.test("README.md's bench table is exactly what `deno task bench:table` renders from bench/results/latest.json", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  assertEquals(readmeBenchTable(readme), await benchTableMarkdown(report), "run `deno task bench:table`");
});

Deno.test("every own-process row of bench/results/latest.json has a time ratio and a peak-RSS ratio, or a note why not", () => {
  const rows = new Map(report.cases.map((e) => [e.case, e]));
  for (const c of benchCases().filter((c) => c.ownProcess)) {
    const e = rows.get(c.case);
    assert(e, `bench/results/latest.json has no row "${c.case}"`);
    const complete = e.ratio !== null && e.rss_ratio !== null && e.niftyts_mib !== null && e.pytorch_mib !== null;
    assert(complete || (e.note ?? "").length > 0, `row "${c.case}" lacks a ratio and says nothing about why`);
  }
});

Deno.test("the bench table has one line per row with times, both ratios, backend and date, and notes as footnotes", () => {
  const table = renderBenchTable({
    date: "2026-12-06T13:00:00.000Z",
    threads: 2,
    torch: "1.13.0a0",
    cases: [
      row({}),
      row({
        case: "MeshNet 256³ full volume 21 ch (elu, 18 classes)",
        niftyts_ms: 46025.5,
        pytorch_ms: null,
        ratio: null,
        niftyts_mib: 1049.4,
        note: "PyTorch side stopped after 60.0 min (--timeout-min), at 3686 MiB peak RSS",
      }),
      row({
        case: "HighRes3DNet train step 64³ (Adam, ReLU)",
        niftyts_ms: 36043.1,
        pytorch_ms: 107696.8,
        ratio: 2.988,
        niftyts_mib: 5481.8,
        pytorch_mib: 2128.7,
        rss_ratio: 2.5752,
      }),
    ],
  }).split("\n");
  assertEquals(lines(table, 0), [
    "case",
    "NiftyTS",
    "PyTorch",
    "time ratio",
    "NiftyTS RSS",
    "PyTorch RSS",
    "RSS ratio",
  ]);
  assertEquals(lines(table, 2), ["conv3d fwd 64³ 8→16 k3", "7.0 ms", "5.3 ms", "0.75×", "—", "—", "—"]);
  assertEquals(lines(table, 3), [
    "MeshNet 256³ full volume 21 ch (elu, 18 classes) [1]",
    "46.0 s",
    "—",
    "—",
    "1049 MiB",
    "—",
    "—",
  ]);
  assertEquals(lines(table, 4), [
    "HighRes3DNet train step 64³ (Adam, ReLU)",
    "36.0 s",
    "107.7 s",
    "2.99×",
    "5482 MiB",
    "2129 MiB",
    "2.58×",
  ]);
  assertEquals(table[4].split("|").slice(-3, -1).map((s) => s.trim()), ["cpu", "2026-12-06"]);
  assertEquals(table.at(-1), "[1] PyTorch side stopped after 60.0 min (--timeout-min), at 3686 MiB peak RSS");
});

Deno.test("bench table rows with the same note share one footnote; a different note gets the next number", () => {
  const note = "PyTorch in its slow mode in this run";
  const table = renderBenchTable({
    date: "2026-12-06T13:00:00.000Z",
    threads: 2,
    torch: "1.13.0a0",
    cases: [
      row({ case: "a", note }),
      row({ case: "b" }),
      row({ case: "c", note }),
      row({ case: "d", note: "another" }),
    ],
  }).split("\n");
  assertEquals([2, 3, 4, 5].map((i) => lines(table, i)[0]), ["a [1]", "b", "c [1]", "d [2]"]);
  assertEquals(table.filter((l) => /^\[\d\]/.test(l)), [`[1] ${note}`, "[2] another"]);
});

function lines(table: string[], i: number): string[] {
  return table[i].split("|").slice(1, 8).map((s) => s.trim());
}

Deno.test("bench times read as ms below 1 s, seconds below 10 min, minutes above", () => {
  assertEquals([formatMs(7.03), formatMs(491.3), formatMs(1487.7), formatMs(54612.7), formatMs(4767774.9)], [
    "7.0 ms",
    "491 ms",
    "1.49 s",
    "54.6 s",
    "79.5 min",
  ]);
  assertEquals(formatMs(null), "—");
});

Deno.test("the bench table replaces only the text between its markers, and a README without them is refused", () => {
  const readme = `# x\n\nbefore\n\n${TABLE_START}\n\nold table\n\n${TABLE_END}\n\nafter\n`;
  assertEquals(
    replaceBenchTable(readme, "| new |"),
    `# x\n\nbefore\n\n${TABLE_START}\n\n| new |\n\n${TABLE_END}\n\nafter\n`,
  );
  assertThrows(() => replaceBenchTable("# x\n", "| new |"), /README\.md: no bench table markers/);
});
