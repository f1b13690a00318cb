import assert from "node:assert/strict";
import { evaluatePair, evaluationRows, formatCsv, formatNumber, summarizeRows } from "../src/evaluation/mod.ts";

Deno.test("evaluation CSV: header subject_id,label,<metrics as given>, one row per subject and label, in order", () => {
  // 1-D strips are enough: labels 1 and 2, spacing 0.5 mm.
  const ref = { data: [0, 1, 1, 1, 0, 2, 2, 0], shape: [1, 8], spacing: [1, 0.5] };
  const seg = { data: [0, 1, 1, 0, 0, 2, 2, 2], shape: [1, 8] };
  const rows = evaluationRows(
    [{ subjectId: "sub-01", seg, ref }, { subjectId: "sub-02", seg: ref, ref }],
    { evaluations: "dice,Dice,hausdorff_distance", units: "foreground,label" },
  );
  const csv = formatCsv(rows, { evaluations: ["dice", "Dice", "hausdorff_distance"] });
  assert.equal(
    csv,
    [
      "subject_id,label,dice,Dice,hausdorff_distance",
      "sub-01,foreground,0.8,0.8,0.5",
      "sub-01,1,0.8,0.8,0.5",
      "sub-01,2,0.8,0.8,0.5",
      "sub-02,foreground,1,1,0",
      "sub-02,1,1,1,0",
      "sub-02,2,1,1,0",
      "",
    ].join("\n"),
  );
});

Deno.test("CSV numbers are shortest round-trip text; NaN and infinities as nan, inf, -inf; fields quoted if needed", () => {
  for (const x of [0.1, 1 / 3, 2 ** -40, 123456789012345680000, -0.5, 7]) assert.equal(Number(formatNumber(x)), x);
  assert.equal(formatNumber(1 / 3), "0.3333333333333333");
  assert.deepEqual([NaN, Infinity, -Infinity].map(formatNumber), ["nan", "inf", "-inf"]);
  const csv = formatCsv([{ subjectId: 'a,"b"', label: "r1_s1&2", values: { dice: NaN } }]);
  assert.equal(csv, 'subject_id,label,dice\n"a,""b""",r1_s1&2,nan\n');
  assert.throws(
    () => formatCsv([{ subjectId: "s", label: "1", values: {} }], { evaluations: ["dice"] }),
    /no value for "dice"/,
  );
});

Deno.test("summary rows give the NaN-skipping mean and population stdev per label", () => {
  const seg = { data: [1, 1, 0, 0], shape: [4] }, ref = { data: [1, 0, 0, 0], shape: [4] };
  const rows = [
    ...evaluatePair(seg, ref, { evaluations: "dice,sensitivity", subjectId: "a" }),
    ...evaluatePair(seg, seg, { evaluations: "dice,sensitivity", subjectId: "b" }),
    { subjectId: "c", label: "foreground", values: { dice: NaN, sensitivity: NaN } },
  ];
  const [mean, stdev] = summarizeRows(rows);
  assert.deepEqual(mean, { subjectId: "mean", label: "foreground", values: { dice: (2 / 3 + 1) / 2, sensitivity: 1 } });
  assert.ok(Math.abs(stdev.values.dice - (1 - 2 / 3) / 2) < 1e-15);
  assert.equal(stdev.values.sensitivity, 0);
});
