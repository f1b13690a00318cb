/**
 * Resumable per-subject evaluation: subjects whose rows an earlier (killed or retried) run already wrote are kept,
 * the others are evaluated one by one, and the table is saved after each subject, so a re-run redoes only what is
 * missing.
 *
 * @module
 */
import type { EvaluationRow } from "./evaluate.ts";
import { parseEvaluationCsv } from "./csv.ts";

/**
 * The rows of an earlier run's table at `path` when it exists, parses and has exactly these metrics; otherwise
 * none (everything is evaluated again).
 */
export async function previousRows(path: string, evaluations: readonly string[]): Promise<EvaluationRow[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return [];
  }
  try {
    const earlier = parseEvaluationCsv(text, path);
    return earlier.evaluations.join(",") === evaluations.join(",") ? earlier.rows : [];
  } catch {
    return [];
  }
}

/** Options of {@link evaluateResumable}. */
export interface EvaluateResumableOptions {
  /** Rows of an earlier run (those of subjects not in `ids` are dropped). */
  readonly previous: readonly EvaluationRow[];
  /** Evaluates one subject. */
  readonly evaluate: (id: string) => Promise<EvaluationRow[]>;
  /** Saves all rows so far (atomically), after each subject evaluated now. */
  readonly save: (rows: EvaluationRow[]) => Promise<void>;
  /** Told of each subject kept from `previous` and each evaluated now. */
  readonly onKept?: (id: string) => void;
  readonly onDone?: (id: string) => void;
}

/** Evaluates the subjects `ids` (in that order) that `previous` lacks; returns every row, in the order of `ids`. */
export async function evaluateResumable(
  ids: readonly string[],
  options: EvaluateResumableOptions,
): Promise<EvaluationRow[]> {
  const bySubject = new Map<string, EvaluationRow[]>();
  const wanted = new Set(ids);
  for (const row of options.previous) {
    if (!wanted.has(row.subjectId)) continue;
    const list = bySubject.get(row.subjectId) ?? [];
    list.push(row);
    bySubject.set(row.subjectId, list);
  }
  for (const id of bySubject.keys()) options.onKept?.(id);
  const ordered = () => ids.flatMap((id) => bySubject.get(id) ?? []);
  for (const id of ids) {
    if (bySubject.has(id)) continue;
    bySubject.set(id, await options.evaluate(id));
    await options.save(ordered());
    options.onDone?.(id);
  }
  return ordered();
}
