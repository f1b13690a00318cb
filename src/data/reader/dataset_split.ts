/**
 * Dataset partitioning: NiftyNet's `dataset_split_file` (headerless `subject_id,phase` rows) created from
 * `exclude_fraction_for_validation` / `exclude_fraction_for_inference` with a fixed seed and reused when present,
 * plus k-fold cross-validation (`--fold k/K`).
 *
 * @module
 */
import type { SubjectId } from "../types.ts";
import { exists, parseCsvRows, writeTextAtomic } from "../_files.ts";
import { RandomStream, shuffleInPlace } from "../_random.ts";

/** A phase a subject belongs to. */
export type Phase = "training" | "validation" | "inference";

const PHASES: readonly Phase[] = ["training", "validation", "inference"];

/** Subject id → phase. */
export type DatasetSplit = ReadonlyMap<SubjectId, Phase>;

/** Options for {@link randomSplit} and {@link loadOrCreateSplit}. */
export interface SplitOptions {
  /** INI `exclude_fraction_for_validation` (default 0). */
  excludeFractionForValidation?: number;
  /** INI `exclude_fraction_for_inference` (default 0). */
  excludeFractionForInference?: number;
  /** Seed of the shuffle (default 0: the same split on every machine). */
  seed?: number;
}

function countFor(fraction: number, n: number, key: string): number {
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`invalid ${key} ${fraction}: expected a fraction in [0, 1)`);
  // NiftyNet's rule: a positive fraction always takes at least one subject.
  return fraction > 0 ? Math.max(Math.min(1, n), Math.floor(n * fraction)) : 0;
}

/** Shuffles the sorted ids with the seed; the first go to validation, the next to inference, the rest to training. */
export function randomSplit(subjects: readonly SubjectId[], options: SplitOptions = {}): DatasetSplit {
  const n = subjects.length;
  const nValid = countFor(options.excludeFractionForValidation ?? 0, n, "exclude_fraction_for_validation");
  const nInfer = countFor(options.excludeFractionForInference ?? 0, n, "exclude_fraction_for_inference");
  if (nValid + nInfer > n) {
    throw new Error(`cannot exclude ${nValid + nInfer} of ${n} subjects for validation/inference`);
  }
  const order = shuffleInPlace(new RandomStream(options.seed ?? 0), [...subjects].sort());
  const out = new Map<SubjectId, Phase>();
  order.forEach((id, i) => out.set(id, i < nValid ? "validation" : i < nValid + nInfer ? "inference" : "training"));
  return out;
}

/** Parses a split file's text; errors name the file, the row and the value. */
export function parseSplit(text: string, path: string): DatasetSplit {
  const out = new Map<SubjectId, Phase>();
  parseCsvRows(text).forEach((row, i) => {
    const phase = row[1] as Phase;
    if (row.length < 2 || !PHASES.includes(phase)) {
      throw new Error(
        `"${path}" row ${i + 1}: expected "subject_id,phase" with phase in ${PHASES.join("/")}, got "${row.join(",")}"`,
      );
    }
    out.set(row[0], phase);
  });
  return out;
}

/** Formats a split as NiftyNet writes it (sorted by subject id). */
export function formatSplit(split: DatasetSplit): string {
  return [...split].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([id, p]) => `${id},${p}\n`).join("");
}

/**
 * Reads `dataset_split_file` when it exists (every subject must have a row), otherwise makes a
 * {@link randomSplit} and writes it there atomically, so the next run reuses the same partition.
 */
export async function loadOrCreateSplit(
  path: string,
  subjects: readonly SubjectId[],
  options: SplitOptions = {},
): Promise<DatasetSplit> {
  if (await exists(path)) {
    const split = parseSplit(await Deno.readTextFile(path), path);
    const missing = subjects.filter((s) => !split.has(s));
    if (missing.length > 0) {
      throw new Error(
        `dataset_split_file "${path}" has no row for subject "${missing[0]}"` +
          (missing.length > 1 ? ` (and ${missing.length - 1} more)` : "") + `; delete it to make a new split`,
      );
    }
    return split;
  }
  const split = randomSplit(subjects, options);
  await writeTextAtomic(path, formatSplit(split));
  return split;
}

/** Parses `--fold k/K` (1 ≤ k ≤ K, K ≥ 2). */
export function parseFold(text: string): { fold: number; folds: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const fold = m ? Number(m[1]) : NaN, folds = m ? Number(m[2]) : NaN;
  if (!m || folds < 2 || fold < 1 || fold > folds) {
    throw new Error(`invalid fold "${text}": expected k/K with 1 <= k <= K and K >= 2 (e.g. 2/5)`);
  }
  return { fold, folds };
}

/** The folder of fold `k/K` inside `model_dir`: `fold_k_of_K`. */
export function foldDirName(text: string): string {
  const { fold, folds } = parseFold(text);
  return `fold_${fold}_of_${folds}`;
}

/** The split file of fold `k/K` beside `dataset_split_file`: `dataset_split_fold_k_of_K.csv`. */
export function foldSplitPath(datasetSplitFile: string, text: string): string {
  const dot = datasetSplitFile.lastIndexOf(".");
  const slash = datasetSplitFile.lastIndexOf("/");
  const stem = dot > slash ? datasetSplitFile.slice(0, dot) : datasetSplitFile;
  return `${stem}_${foldDirName(text)}${dot > slash ? datasetSplitFile.slice(dot) : ".csv"}`;
}

/**
 * The split of fold `k/K`: read from its file ({@link foldSplitPath}) when present (every subject of `base` must
 * have a row), otherwise {@link kFoldSplit} of `base` (seed 0, so every machine and every re-run deals the same
 * folds), written there atomically. Every fold derives from the same base split, so the K validation sets
 * partition the non-inference subjects.
 */
export async function loadOrCreateFoldSplit(
  datasetSplitFile: string,
  base: DatasetSplit,
  text: string,
): Promise<DatasetSplit> {
  const path = foldSplitPath(datasetSplitFile, text);
  if (await exists(path)) {
    const split = parseSplit(await Deno.readTextFile(path), path);
    const missing = [...base.keys()].filter((s) => !split.has(s));
    if (missing.length > 0) {
      throw new Error(
        `fold split "${path}" has no row for subject "${missing[0]}"` +
          (missing.length > 1 ? ` (and ${missing.length - 1} more)` : "") + `; delete it to deal the folds again`,
      );
    }
    return split;
  }
  const split = kFoldSplit(base, { ...parseFold(text), seed: 0 });
  await writeTextAtomic(path, formatSplit(split));
  return split;
}

/**
 * K-fold cross-validation: subjects not marked `inference` in `base` are shuffled with the seed and dealt into
 * K folds of near-equal size; fold k (1-based) is validation, the others training. Inference rows stay.
 */
export function kFoldSplit(
  base: DatasetSplit,
  options: { fold: number; folds: number; seed?: number },
): DatasetSplit {
  const { fold, folds } = options;
  parseFold(`${fold}/${folds}`);
  const pool = [...base].filter(([, p]) => p !== "inference").map(([id]) => id).sort();
  if (pool.length < folds) throw new Error(`cannot make ${folds} folds from ${pool.length} subjects`);
  const order = shuffleInPlace(new RandomStream(options.seed ?? 0), pool);
  const out = new Map<SubjectId, Phase>(base);
  order.forEach((id, i) => out.set(id, i % folds === fold - 1 ? "validation" : "training"));
  return out;
}

/** Subjects of one phase, sorted. */
export function subjectsIn(split: DatasetSplit, phase: Phase): SubjectId[] {
  return [...split].filter(([, p]) => p === phase).map(([id]) => id).sort();
}
