/**
 * `cli.ts merge <shard CSVs…> --out <file> [--expect <list>]`: gathers the per-shard tables of a sharded run
 * (`inferred_shard_<i>_of_<n>.csv` lists, `evaluation_shard_<i>_of_<n>.csv` tables, zoo volume tables: any CSV
 * whose first column is the subject id, with or without a `subject_id,…` header) into one, sorted by subject id.
 *
 * Before writing anything it checks that every shard of the set is there (from the `_shard_<i>_of_<n>` names),
 * that all files have the same header, that no subject comes from two files (or twice in a headerless list), that
 * each subject sits in the shard its id hashes to, and, with `--expect` (a CSV or list whose first column names the
 * subjects, e.g. the input `csv_file` or an unsharded `inferred.csv`), that every expected subject is present. Any
 * problem is one error naming the missing or duplicated subjects; nothing is written then. An evaluation table
 * (`subject_id,label,…`) also gets its mean/stdev summary recomputed beside the output (`<out>_summary.csv`).
 *
 * @module
 */
import { formatCsv, parseEvaluationCsv, splitCsvLine, summarizeRows } from "../evaluation/mod.ts";
import { formatShard, parseShardFileName, shardIndexOf } from "../util/shard.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";

/** Options of {@link mergeCommand}. */
export interface MergeOptions {
  /** The merged file. */
  readonly out: string;
  /** A CSV (or one-id-per-line list) naming every expected subject in its first column. */
  readonly expect?: string;
}

interface Table {
  readonly path: string;
  readonly header?: string;
  /** Lines after the header, with their subject ids. */
  readonly rows: readonly { readonly id: string; readonly line: string }[];
}

async function readText(path: string, role: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`${role} "${path}": ${e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message}`);
  }
}

function readTable(path: string, text: string): Table {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0 && !l.startsWith("#"));
  const first = lines.length ? splitCsvLine(lines[0])[0].trim() : "";
  const header = first === "subject_id" ? lines[0] : undefined;
  const body = header === undefined ? lines : lines.slice(1);
  return { path, header, rows: body.map((line) => ({ id: splitCsvLine(line)[0].trim(), line })) };
}

/** Subject ids in the first column of `text` (a `subject_id` header is skipped). */
export function expectedIds(text: string): string[] {
  return readTable("", text).rows.map((r) => r.id);
}

function names(ids: readonly string[], max = 20): string {
  const shown = ids.slice(0, max).map((id) => `"${id}"`).join(", ");
  return ids.length > max ? `${shown} and ${ids.length - max} more` : shown;
}

/** Merges the files (see the module doc); returns the lines to print. */
export async function mergeCommand(files: readonly string[], options: MergeOptions): Promise<string[]> {
  if (files.length === 0) throw new Error("merge needs at least one shard CSV");
  const tables: Table[] = [];
  for (const f of files) tables.push(readTable(f, await readText(f, "shard CSV")));
  const problems: string[] = [];

  // The shard set: every file named like a shard, one count, every index present once.
  const shards = tables.map((t) => parseShardFileName(t.path.replace(/^.*\//, "")));
  const named = shards.filter((s) => s !== undefined);
  let count: number | undefined;
  if (named.length) {
    const counts = [...new Set(named.map((s) => s.shard.count))];
    if (counts.length > 1) problems.push(`the files come from different shard counts (${counts.join(", ")})`);
    count = counts[0];
    const seen = new Set(named.map((s) => s.shard.index));
    const missing = [...Array(count).keys()].filter((i) => !seen.has(i));
    if (counts.length === 1 && missing.length) {
      problems.push(
        `${missing.length} shard file(s) missing: ${missing.map((i) => `${i}/${count}`).join(", ")}` +
          ` (expected ${named[0].merged.replace(/^.*\//, "").replace(/(\.[^.]+)?$/, `_shard_<i>_of_${count}$1`)})`,
      );
    }
  }

  // One header for all.
  const headers = [...new Set(tables.map((t) => t.header ?? ""))];
  if (headers.length > 1) {
    problems.push(`the files have different headers: ${tables.map((t) => `"${t.path}": "${t.header ?? ""}"`)}`);
  }
  const header = tables[0].header;

  // Every subject from one file only (and once in a headerless list), in the shard its id hashes to.
  const source = new Map<string, string>();
  const duplicated = new Map<string, Set<string>>();
  const misplaced: string[] = [];
  tables.forEach((t, k) => {
    const inFile = new Set<string>();
    for (const { id } of t.rows) {
      const other = source.get(id);
      if (other !== undefined && (other !== t.path || (header === undefined && inFile.has(id)))) {
        const set = duplicated.get(id) ?? new Set([other]);
        set.add(t.path);
        duplicated.set(id, set);
      }
      if (other === undefined) source.set(id, t.path);
      if (inFile.has(id)) continue;
      inFile.add(id);
      const shard = shards[k]?.shard;
      if (shard && shard.count === count && shardIndexOf(id, shard.count) !== shard.index) {
        misplaced.push(`"${id}" in shard ${formatShard(shard)}, belongs to ${shardIndexOf(id, shard.count)}/${count}`);
      }
    }
  });
  if (duplicated.size) {
    const detail = [...duplicated].slice(0, 20).map(([id, where]) => `"${id}" (${[...where].join(", ")})`);
    problems.push(`${duplicated.size} subject(s) duplicated: ${detail.join("; ")}`);
  }
  if (misplaced.length) {
    problems.push(
      `${misplaced.length} subject(s) in the wrong shard (mixed runs?): ${misplaced.slice(0, 20).join("; ")}`,
    );
  }

  // Every expected subject present.
  if (options.expect) {
    const expected = expectedIds(await readText(options.expect, "--expect"));
    const missing = expected.filter((id) => !source.has(id));
    const unexpected = [...source.keys()].filter((id) => !expected.includes(id));
    if (missing.length) {
      const where = count ? missing.map((id) => `${id} (shard ${shardIndexOf(id, count!)}/${count})`) : missing;
      problems.push(`${missing.length} subject(s) missing: ${names(where).replaceAll('"', "")}`);
    }
    if (unexpected.length) problems.push(`${unexpected.length} subject(s) not in --expect: ${names(unexpected)}`);
  }
  if (problems.length) throw new Error(`merge: nothing written to "${options.out}": ${problems.join("; ")}`);

  // Rows sorted by subject id; a subject's rows keep their order.
  const rows = tables.flatMap((t) => t.rows).map((r, i) => ({ ...r, i }))
    .sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : a.i - b.i);
  const text = [...(header !== undefined ? [header] : []), ...rows.map((r) => r.line)].map((l) => `${l}\n`).join("");
  const lines = [`merged ${tables.length} file(s): ${source.size} subject(s), ${rows.length} row(s)`];
  if (header !== undefined && /^subject_id,label(,|$)/.test(header)) {
    const table = parseEvaluationCsv(text, options.out);
    const summaryPath = options.out.replace(/(\.csv)?$/i, "_summary.csv");
    await writeFileAtomic(options.out, text);
    await writeFileAtomic(
      summaryPath,
      formatCsv(summarizeRows(table.rows), { evaluations: table.evaluations }),
    );
    lines.push(`wrote ${options.out}`, `wrote ${summaryPath}`);
  } else {
    await writeFileAtomic(options.out, text);
    lines.push(`wrote ${options.out}`);
  }
  return lines;
}
