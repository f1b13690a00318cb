/**
 * `cli.ts evaluate --seg <file|dir> --ref <file|dir> --evaluations dice,… [--evaluation-units …] --csv out.csv`:
 * segmentation metrics per subject (and label), one CSV row each, plus mean/stdev summary rows in
 * `<out>_summary.csv`. Files in folders are paired by subject id: the file name without `.nii[.gz]`/`.hdr`/`.img`
 * and without the postfix (`--seg-postfix`, default NiftyNet's `_niftynet_out`).
 *
 * @module
 */
import { basename, join } from "node:path";
import {
  evaluateImageFiles,
  evaluateResumable,
  type EvaluationRow,
  formatCsv,
  previousRows,
  summarizeRows,
} from "../evaluation/mod.ts";
import { formatShard, resolveShard, selectShard, shardFileName } from "../util/shard.ts";
import { SubjectMeter } from "../util/subject_meter.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";

/** Options of {@link evaluateCommand}, named like the CLI flags. */
export interface EvaluateCommandOptions {
  readonly seg: string;
  readonly ref: string;
  readonly evaluations: string;
  readonly evaluationUnits?: string;
  readonly csv: string;
  readonly segPostfix?: string;
  readonly refPostfix?: string;
  /** Tolerance of `surface_dice` in mm (default 1). */
  readonly surfaceTolerance?: number;
  /** `i/n`: evaluate only this shard's subjects, resumably (default: the schedulers' environment). */
  readonly shard?: string;
  /** Environment the shard may come from (default `Deno.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const IMAGE_FILE = /\.(nii(\.gz)?|hdr)$/i;

function subjectId(file: string, postfix: string): string {
  const stem = basename(file).replace(IMAGE_FILE, "");
  return postfix && stem.endsWith(postfix) ? stem.slice(0, -postfix.length) : stem;
}

async function listImages(path: string, postfix: string, role: string): Promise<Map<string, string>> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new Error(`--${role} "${path}": no such file or folder`);
  }
  const files = info.isDirectory
    ? [...Deno.readDirSync(path)].filter((e) => e.isFile && IMAGE_FILE.test(e.name)).map((e) => join(path, e.name))
    : [path];
  if (files.length === 0) throw new Error(`--${role} "${path}": no .nii, .nii.gz or .hdr files`);
  const out = new Map<string, string>();
  for (const f of files.sort()) {
    const id = subjectId(f, postfix);
    if (out.has(id)) throw new Error(`--${role}: subject "${id}" has two files: "${out.get(id)}" and "${f}"`);
    out.set(id, f);
  }
  return out;
}

/** Evaluates every subject, writes the CSV and summary atomically, returns the lines to print. */
export async function evaluateCommand(o: EvaluateCommandOptions): Promise<string[]> {
  const segs = await listImages(o.seg, o.segPostfix ?? "_niftynet_out", "seg");
  const refs = await listImages(o.ref, o.refPostfix ?? "", "ref");
  const single = segs.size === 1 && refs.size === 1;
  const pairs = single ? [[[...refs.keys()][0], [...segs.values()][0], [...refs.values()][0]]] : [...segs].map(
    ([id, seg]) => {
      const ref = refs.get(id);
      if (!ref) throw new Error(`subject "${id}": segmentation "${seg}" has no reference in "${o.ref}"`);
      return [id, seg, ref];
    },
  );
  const evaluations = o.evaluations.split(",").map((s) => s.trim()).filter(Boolean);
  const found = resolveShard(o.shard, o.env ?? Deno.env.toObject());
  const shard = found?.shard;
  const lines: string[] = [];
  if (found) lines.push(`shard ${formatShard(found.shard)} (from ${found.source})`);
  const mine = selectShard(pairs, shard, (p) => p[0]);
  const files = new Map(mine.map(([id, seg, ref]) => [id, [seg, ref]]));
  const csv = shard ? shardFileName(o.csv, shard) : o.csv;
  const summaryPath = csv.replace(/(\.csv)?$/i, "_summary.csv");
  const write = async (rows: readonly EvaluationRow[]) => {
    await writeFileAtomic(csv, formatCsv(rows, { evaluations }));
    await writeFileAtomic(summaryPath, formatCsv(summarizeRows(rows), { evaluations }));
  };
  const meter = new SubjectMeter({ label: shard ? `shard ${formatShard(shard)}` : "evaluate", verb: "evaluated" });
  const rows = await evaluateResumable(mine.map(([id]) => id), {
    previous: shard ? await previousRows(csv, evaluations) : [],
    evaluate: (id) =>
      evaluateImageFiles(files.get(id)![0], files.get(id)![1], {
        evaluations,
        units: o.evaluationUnits ?? "foreground",
        subjectId: id,
        surfaceTolerance: o.surfaceTolerance,
      }),
    // A shard saves as it goes (to resume after a kill); an unsharded run writes once, at the end.
    save: (rows) => shard ? write(rows) : Promise.resolve(),
    onKept: shard ? (id) => meter.kept(id) : undefined,
    onDone: shard ? (id) => meter.done(id) : undefined,
  });
  await write(rows);
  const summary = summarizeRows(rows);
  if (shard) lines.push(meter.summary());
  lines.push(`evaluated ${mine.length} subject(s), ${rows.length} row(s): ${evaluations.join(", ")}`);
  for (const r of summary.filter((s) => s.subjectId === "mean")) {
    lines.push(
      `  mean ${r.label || "image"}: ` + evaluations.map((m) => `${m} ${r.values[m].toPrecision(4)}`).join(", "),
    );
  }
  lines.push(`wrote ${csv}`, `wrote ${summaryPath}`);
  return lines;
}
