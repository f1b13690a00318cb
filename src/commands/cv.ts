/**
 * `cli.ts cv -c config.ini --folds K [-a application] [--shard i/n] [--summary-only] [--key value …]`: K-fold
 * cross-validation. For each fold k, `train`, `infer` and `evaluate` run with `--fold k/K` (see `[SYSTEM] fold`:
 * fold k of the split's non-inference subjects validates, the others train; the fold's checkpoints, outputs and
 * evaluation live in `<model_dir>/fold_k_of_K`, its split in `dataset_split_fold_k_of_K.csv` beside the dataset
 * split file). Then the folds' evaluation tables are gathered into `<model_dir>/cv_folds.csv` (one row per fold and
 * label: the metric means over the fold's subjects) and `<model_dir>/cv_summary.csv` (mean and sd over folds per
 * label and metric; sd is the population standard deviation, as `evaluation_summary.csv`).
 *
 * Folds as array tasks: with `--shard i/n` (or, when absent, the shard the schedulers' environment gives, see
 * `src/util/shard.ts`) only the folds k with (k − 1) mod n = i run, so an array of K tasks runs one fold each. A fold
 * whose `evaluation.csv` exists is complete and is not run again (a retried task redoes only what is missing). The
 * summaries are written by whichever run finds every fold complete (or by `--summary-only`).
 *
 * @module
 */
import { join } from "node:path";
import "../applications/mod.ts";
import { getApplication } from "../engine/application.ts";
import { loadConfig, runAction, signalExitCode } from "../engine/mod.ts";
import { formatNumber, parseEvaluationCsv } from "../evaluation/mod.ts";
import { exists } from "../data/_files.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { formatShard, parseShard, type Shard, shardFromEnv } from "../util/shard.ts";
import { Interrupted } from "./run_action.ts";

/** Options of {@link cvCommand}. */
export interface CvOptions {
  readonly config: string;
  /** Number of folds K (at least 2). */
  readonly folds: number;
  readonly application?: string;
  /** `--key value` overrides applied to every fold (not `--fold`, not `--shard`). */
  readonly overrides?: readonly string[];
  /** Run only this shard's folds (default: from the environment, else all). */
  readonly shard?: string;
  /** Only gather the finished folds' tables into the summaries. */
  readonly summaryOnly?: boolean;
  /** Environment for the shard (default `Deno.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly log?: (line: string) => void;
}

/** The folds (1-based) of shard `i/n`: those with (k − 1) mod n = i. */
export function foldsOfShard(folds: number, shard: Shard | undefined): number[] {
  const all = Array.from({ length: folds }, (_, i) => i + 1);
  return shard ? all.filter((k) => (k - 1) % shard.count === shard.index) : all;
}

/** One fold's metric means per label. */
interface FoldRow {
  readonly fold: number;
  readonly label: string;
  readonly values: Readonly<Record<string, number>>;
}

function mean(xs: readonly number[]): number {
  const finite = xs.filter((x) => !Number.isNaN(x));
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
}

function sd(xs: readonly number[]): number {
  const finite = xs.filter((x) => !Number.isNaN(x));
  const m = mean(finite);
  return finite.length ? Math.sqrt(finite.reduce((a, b) => a + (b - m) ** 2, 0) / finite.length) : NaN;
}

/** Per-label metric means of one fold's evaluation table. */
function foldRows(fold: number, text: string, path: string): { evaluations: string[]; rows: FoldRow[] } {
  const { evaluations, rows } = parseEvaluationCsv(text, path);
  const labels = [...new Set(rows.map((r) => r.label))];
  return {
    evaluations,
    rows: labels.map((label) => {
      const group = rows.filter((r) => r.label === label);
      return {
        fold,
        label,
        values: Object.fromEntries(evaluations.map((e) => [e, mean(group.map((r) => r.values[e]))])),
      };
    }),
  };
}

/** Runs the folds (see the module notes) and returns the lines to print. */
export async function cvCommand(options: CvOptions): Promise<string[]> {
  const { folds } = options;
  if (!(Number.isInteger(folds) && folds >= 2)) throw new Error(`invalid --folds ${folds}: expected an integer >= 2`);
  const overrides = [...(options.overrides ?? [])];
  const bad = overrides.find((o) => /^--(SYSTEM\.)?(fold|shard)(=|$)/.test(o));
  if (bad) throw new Error(`cv: ${bad} is set by cv itself (use --folds K and --shard i/n)`);
  const log = options.log ?? ((line: string) => console.log(line));
  const application = options.application ? getApplication(options.application) : undefined;
  const configOf = (fold?: number) =>
    loadConfig(options.config, {
      overrides: fold ? [...overrides, "--fold", `${fold}/${folds}`] : overrides,
      application: application?.section,
    });
  const foldCsv = async (fold: number) => join((await configOf(fold)).evaluation.save_csv_dir, "evaluation.csv");

  let shard: Shard | undefined;
  if (options.shard) shard = parseShard(options.shard);
  else {
    const found = shardFromEnv(options.env ?? Deno.env.toObject());
    if (found) {
      shard = found.shard;
      log(`shard ${formatShard(shard)} (from ${found.source})`);
    }
  }
  const mine = options.summaryOnly ? [] : foldsOfShard(folds, shard);
  if (shard && !options.summaryOnly) log(`cv shard ${formatShard(shard)}: folds ${mine.join(", ") || "none"}`);
  for (const fold of mine) {
    const name = `fold ${fold}/${folds}`;
    if (await exists(await foldCsv(fold))) {
      log(`${name}: complete (${await foldCsv(fold)}), kept`);
      continue;
    }
    const foldOverrides = [...overrides, "--fold", `${fold}/${folds}`];
    for (const action of ["train", "infer", "evaluate"] as const) {
      log(`${name}: ${action}`);
      const result = await runAction(action, options.config, foldOverrides, { application, log });
      if (result.action === "train" && result.result.stoppedBy === "signal") {
        const signal = result.result.signal ?? "SIGINT";
        throw new Interrupted(
          `${name} interrupted by ${signal} at iteration ${result.result.iteration}; run cv again to resume`,
          signalExitCode(signal),
        );
      }
    }
  }

  // Gather every complete fold; the summaries need them all.
  const rows: FoldRow[] = [];
  let evaluations: string[] = [];
  const missing: number[] = [];
  for (let fold = 1; fold <= folds; fold++) {
    const path = await foldCsv(fold);
    if (!(await exists(path))) {
      missing.push(fold);
      continue;
    }
    const got = foldRows(fold, await Deno.readTextFile(path), path);
    if (evaluations.length && got.evaluations.join() !== evaluations.join()) {
      throw new Error(`cv: "${path}" has metrics ${got.evaluations} but fold 1 has ${evaluations}`);
    }
    evaluations = got.evaluations;
    rows.push(...got.rows);
  }
  if (missing.length) {
    return [`cv: folds ${missing.join(", ")} of ${folds} not finished; the summary is written when all are`];
  }
  const modelDir = (await configOf()).system.model_dir;
  const header = (first: string) => [first, "label", ...evaluations].join(",");
  const line = (cells: (string | number)[]) => cells.map((c) => typeof c === "number" ? formatNumber(c) : c).join(",");
  const perFold = join(modelDir, "cv_folds.csv");
  await writeFileAtomic(
    perFold,
    [header("fold"), ...rows.map((r) => line([r.fold, r.label, ...evaluations.map((e) => r.values[e])]))].join("\n") +
      "\n",
  );
  const labels = [...new Set(rows.map((r) => r.label))];
  const summaryLines = [header("statistic")];
  const out = [`cv: ${folds} folds; per fold ${perFold}`];
  for (const label of labels) {
    const group = rows.filter((r) => r.label === label);
    const m = evaluations.map((e) => mean(group.map((r) => r.values[e])));
    const s = evaluations.map((e) => sd(group.map((r) => r.values[e])));
    summaryLines.push(line(["mean", label, ...m]), line(["sd", label, ...s]));
    const text = evaluations.map((e, i) => `${e} ${m[i].toPrecision(4)} ± ${s[i].toPrecision(2)}`).join(", ");
    out.push(`  ${label || "all"}: ${text}`);
  }
  const summary = join(modelDir, "cv_summary.csv");
  await writeFileAtomic(summary, summaryLines.join("\n") + "\n");
  out.splice(1, 0, `cv summary (mean ± sd over folds): ${summary}`);
  return out;
}
