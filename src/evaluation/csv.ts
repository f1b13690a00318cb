/**
 * The evaluation CSV: header `subject_id,label,<metric>,…` with the metric names as given, one line per row.
 *
 * @module
 */
import type { EvaluationRow } from "./evaluate.ts";

/**
 * A number in full precision: the shortest text that reads back to the same float64 (JavaScript's own
 * conversion, e.g. `0.1`, `12`, `1e-7`); non-finite values as Python writes them: `nan`, `inf`, `-inf`.
 */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  return String(x);
}

/** Quotes a CSV field when it holds a comma, quote or line break (RFC 4180). */
function field(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Formats rows as CSV text (LF line ends, trailing newline). Columns: `subject_id`, `label`, then `evaluations`
 * in the given order (default: the first row's metrics).
 *
 * @example
 * ```ts
 * formatCsv([{ subjectId: "s1", label: "1", values: { dice: 0.5 } }]); // "subject_id,label,dice\ns1,1,0.5\n"
 * ```
 */
export function formatCsv(
  rows: readonly EvaluationRow[],
  { evaluations }: { evaluations?: readonly string[] } = {},
): string {
  const names = evaluations ?? (rows.length ? Object.keys(rows[0].values) : []);
  const lines = [["subject_id", "label", ...names].map(field).join(",")];
  for (const row of rows) {
    const cells = names.map((name) => {
      if (!(name in row.values)) throw new Error(`csv: row ${row.subjectId}/${row.label} has no value for "${name}"`);
      return formatNumber(row.values[name]);
    });
    lines.push([field(row.subjectId), field(row.label), ...cells].join(","));
  }
  return lines.join("\n") + "\n";
}
