/**
 * Evaluation of written outputs against reference images, subject by subject: the outputs come from the
 * `inferred` input section or from `<save_seg_dir>/inferred.csv`, the references from the target role's section.
 *
 * @module
 */
import { join } from "node:path";
import {
  evaluateImageFiles,
  evaluateResumable,
  type EvaluationRow,
  type EvaluationUnit,
  previousRows,
} from "../evaluation/mod.ts";
import { formatShard, selectShard, type Shard, shardFileName } from "../util/shard.ts";
import { SubjectMeter } from "../util/subject_meter.ts";
import { configShard, inferredListName, SHARD_HONOURED_KEYS } from "./_shard.ts";
import { findSectionFiles, parseSubjectCsv } from "../data/mod.ts";
import type { NiftyConfig } from "../engine/config/mod.ts";
import { exists } from "../data/_files.ts";
import { sectionOptions } from "./_inputs.ts";
import { EVALUATION_CSV_HONOURED_KEYS, writeEvaluation } from "./_outputs.ts";
import { composeKeys, type HonouredKeys } from "../engine/honoured_keys.ts";

/** Keys {@link evaluateImages} acts on. */
export const EVALUATE_IMAGES_HONOURED_KEYS: HonouredKeys = composeKeys([
  { EVALUATION: ["evaluations", "surface_tolerance"], INFERENCE: ["save_seg_dir"] },
  EVALUATION_CSV_HONOURED_KEYS,
  SHARD_HONOURED_KEYS,
]);

/**
 * Subject → output file: the `inferred` section when the application names one, else the inference list (a
 * shard reads its own `inferred_shard_<i>_of_<n>.csv` when present, else the merged `inferred.csv`).
 */
export async function inferredFiles(
  config: NiftyConfig,
  inferredSections: readonly string[],
  shard?: Shard,
): Promise<Map<string, string>> {
  if (inferredSections.length) {
    return await findSectionFiles(inferredSections[0], sectionOptions(config.inputs[inferredSections[0]]));
  }
  const own = `${config.inference.save_seg_dir}/${inferredListName(shard)}`;
  const list = shard && await exists(own) ? own : `${config.inference.save_seg_dir}/inferred.csv`;
  if (!(await exists(list))) {
    throw new Error(`evaluate: no "${list}" (run inference first) and no inferred input section is named`);
  }
  return parseSubjectCsv(await Deno.readTextFile(list), list);
}

/**
 * Evaluates every inferred subject that has a reference with `[EVALUATION] evaluations`, writes
 * `<save_csv_dir>/evaluation.csv` (+ `_summary.csv`) and returns the paths and rows.
 */
export async function evaluateImages(
  config: NiftyConfig,
  options: { inferred: readonly string[]; reference: readonly string[]; units?: EvaluationUnit },
): Promise<{ csv: string; summary: string; rows: EvaluationRow[] }> {
  const evaluations = config.evaluation.evaluations;
  if (!evaluations.length) throw new Error(`"${config.source}": [EVALUATION] evaluations is empty`);
  if (!options.reference.length) throw new Error(`"${config.source}": evaluation needs a reference input section`);
  const shard = configShard(config);
  const outputs = await inferredFiles(config, options.inferred, shard);
  const refs = await findSectionFiles(options.reference[0], sectionOptions(config.inputs[options.reference[0]]));
  const ids = selectShard([...outputs.keys()].filter((id) => refs.has(id)).sort(), shard);
  if (!shard && ids.length === 0) {
    throw new Error(`evaluate: none of the ${outputs.size} inferred subjects has a reference`);
  }
  const name = shard ? shardFileName("evaluation", shard) : "evaluation";
  const label = shard ? `shard ${formatShard(shard)}` : "evaluation";
  const meter = new SubjectMeter({ label, verb: "evaluated" });
  const previous = shard ? await previousRows(join(config.evaluation.save_csv_dir, `${name}.csv`), evaluations) : [];
  if (shard) console.log(`${label}: ${ids.length} subject(s) with a reference to evaluate (${name}.csv)`);
  const rows = await evaluateResumable(ids, {
    previous,
    evaluate: (id) =>
      evaluateImageFiles(outputs.get(id)!, refs.get(id)!, {
        evaluations,
        units: options.units ?? "foreground",
        subjectId: id,
        surfaceTolerance: config.evaluation.surface_tolerance,
      }),
    // Only a shard saves as it goes (to resume); an unsharded run replaces the old table once, at the end.
    save: async (rows) => void (shard && await writeEvaluation(config, rows, { name, evaluations })),
    onKept: (id) => meter.kept(id),
    onDone: (id) => meter.done(id),
  });
  const written = await writeEvaluation(config, rows, { name, evaluations });
  console.log(meter.summary());
  return { ...written, rows };
}
