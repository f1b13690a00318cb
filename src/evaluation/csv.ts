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

/** Splits one CSV line into fields (RFC 4180 quotes, as {@link formatCsv} writes them). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cell = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') cell += '"', i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") out.push(cell), cell = "";
    else cell += ch;
  }
  out.push(cell);
  return out;
}

function parseNumber(text: string): number {
  if (text === "nan") return NaN;
  if (text === "inf") return Infinity;
  if (text === "-inf") return -Infinity;
  return text.trim() === "" ? NaN : Number(text);
}

/**
 * Reads {@link formatCsv}'s text back: the metric names and the rows. Errors name `path` and the line.
 *
 * @example
 * ```ts
 * parseEvaluationCsv("subject_id,label,dice\ns1,1,0.5\n", "e.csv");
 * // { evaluations: ["dice"], rows: [{ subjectId: "s1", label: "1", values: { dice: 0.5 } }] }
 * ```
 */
export function parseEvaluationCsv(text: string, path: string): { evaluations: string[]; rows: EvaluationRow[] } {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines.length ? splitCsvLine(lines[0]) : [];
  if (header[0] !== "subject_id" || header[1] !== "label") {
    throw new Error(`"${path}": expected an evaluation CSV starting "subject_id,label,", got "${lines[0] ?? ""}"`);
  }
  const evaluations = header.slice(2);
  const rows = lines.slice(1).map((line, i) => {
    const cells = splitCsvLine(line);
    if (cells.length !== header.length) {
      throw new Error(`"${path}" line ${i + 2}: expected ${header.length} fields, got ${cells.length}`);
    }
    const values: Record<string, number> = {};
    evaluations.forEach((name, k) => values[name] = parseNumber(cells[k + 2]));
    return { subjectId: cells[0], label: cells[1], values };
  });
  return { evaluations, rows };
}
