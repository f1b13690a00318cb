/**
 * Evaluation of written outputs against reference images, subject by subject: the outputs come from the
 * `inferred` input section or from `<save_seg_dir>/inferred.csv`, the references from the target role's section.
 *
 * @module
 */
import { readImage } from "../io/mod.ts";
import type { Image } from "../geometry/image.ts";
import { voxelSizes } from "../geometry/mod.ts";
import { evaluatePair, type EvaluationRow, type EvaluationUnit, type Volume } from "../evaluation/mod.ts";
import { findSectionFiles, parseSubjectCsv } from "../data/mod.ts";
import type { NiftyConfig } from "../engine/config/mod.ts";
import { exists } from "../data/_files.ts";
import { sectionOptions } from "./_inputs.ts";
import { EVALUATION_CSV_HONOURED_KEYS, writeEvaluation } from "./_outputs.ts";
import { composeKeys, type HonouredKeys } from "../engine/honoured_keys.ts";

/** Keys {@link evaluateImages} acts on. */
export const EVALUATE_IMAGES_HONOURED_KEYS: HonouredKeys = composeKeys([
  { EVALUATION: ["evaluations"], INFERENCE: ["save_seg_dir"] },
  EVALUATION_CSV_HONOURED_KEYS,
]);

/** An image as the evaluation's row-major volume: x-fastest data read as shape [z, y, x], spacing in mm. */
export function evaluationVolume(image: Image, file: string): Volume {
  const [x, y, z, t, c] = image.shape;
  if (t * c !== 1) throw new Error(`"${file}": expected a 3D image with one channel, got shape [${image.shape}]`);
  const [sx, sy, sz] = voxelSizes(image.affine);
  return { data: image.data as ArrayLike<number>, shape: [z, y, x], spacing: [sz, sy, sx] };
}

function sameGrid(a: Image, b: Image): boolean {
  return a.shape.every((d, i) => d === b.shape[i]) &&
    a.affine.every((row, i) => row.every((v, j) => Math.abs(v - b.affine[i][j]) <= 1e-3));
}

/** Subject → output file: the `inferred` section when the application names one, else the inference list. */
export async function inferredFiles(
  config: NiftyConfig,
  inferredSections: readonly string[],
): Promise<Map<string, string>> {
  if (inferredSections.length) {
    return await findSectionFiles(inferredSections[0], sectionOptions(config.inputs[inferredSections[0]]));
  }
  const list = `${config.inference.save_seg_dir}/inferred.csv`;
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
  const outputs = await inferredFiles(config, options.inferred);
  const refs = await findSectionFiles(options.reference[0], sectionOptions(config.inputs[options.reference[0]]));
  const rows: EvaluationRow[] = [];
  for (const [id, segFile] of [...outputs].sort(([a], [b]) => a < b ? -1 : 1)) {
    const refFile = refs.get(id);
    if (!refFile) continue;
    const [seg, ref] = [await readImage(segFile), await readImage(refFile)];
    if (!sameGrid(seg, ref)) {
      throw new Error(`subject "${id}": "${segFile}" and "${refFile}" are not on the same voxel grid (shape/affine)`);
    }
    rows.push(...evaluatePair(evaluationVolume(seg, segFile), evaluationVolume(ref, refFile), {
      evaluations,
      units: options.units ?? "foreground",
      subjectId: id,
    }));
  }
  if (rows.length === 0) throw new Error(`evaluate: none of the ${outputs.size} inferred subjects has a reference`);
  return { ...(await writeEvaluation(config, rows, { evaluations })), rows };
}
