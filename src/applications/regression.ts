/**
 * NiftyNet's regression application (`net_regress`, section `[REGRESSION]`): image → image of real values.
 *
 * - Roles: `image`, `output` (the training target), `weight`, `sampler`, `inferred`.
 * - Training: as segmentation (samplers, preprocessing, augmentation) with a one-channel network output and a
 *   regression `loss_type` (default `L2Loss`); `loss_border` voxels on each side are left out of the loss.
 * - Inference: grid windows aggregated per subject, written as float32 NIfTI on the image's original grid.
 * - Evaluation: regression metrics (`mse`, `mae`, `psnr` …) against the output section.
 * - With a `csv_data_file` output section: one value vector per subject instead (`_subject_values.ts`).
 *
 * @module
 */
import { tf } from "../deps.ts";
import { type Application, registerApplication } from "../engine/application.ts";
import { sectionValues } from "./_inputs.ts";
import { csvDataSection, subjectValuesRun } from "./_subject_values.ts";
import { configuredLoss } from "./_plugins.ts";
import { WINDOW_APP_HONOURED_KEYS, windowAppRun } from "./_window_app.ts";
import { EVALUATE_IMAGES_HONOURED_KEYS, evaluateImages } from "./_evaluate_images.ts";
import { composeKeys, type HonouredKeys } from "../engine/honoured_keys.ts";

/** Removes `border` voxels from each side of every spatial axis of a channels-last batch. */
export function cropBorder(t: tf.Tensor, border: number): tf.Tensor {
  if (border <= 0) return t;
  const begin = t.shape.map((_, d) => (d === 0 || d === t.rank - 1 || t.shape[d] === 1 ? 0 : border));
  const size = t.shape.map((n, d) => n - 2 * begin[d]);
  if (size.some((n) => n < 1)) throw new Error(`loss_border ${border} leaves nothing of a window [${t.shape}]`);
  return tf.slice(t, begin, size);
}

/** Every key the regression application acts on (with the driver's). Not yet: `error_map`. */
export const REGRESSION_HONOURED_KEYS: HonouredKeys = composeKeys([
  WINDOW_APP_HONOURED_KEYS,
  EVALUATE_IMAGES_HONOURED_KEYS,
  { REGRESSION: ["image", "output", "weight", "sampler", "inferred", "loss_border"] },
  // Per-subject targets from a CSV (the output section; see _subject_values.ts).
  { INPUT: ["csv_data_file", "to_ohe"] },
]);

/** The regression application. */
export const regressionApplication: Application = {
  name: "regression",
  section: "REGRESSION",
  aliases: ["regress", "net_regress"],
  inputRoles: ["image", "output", "weight", "sampler", "inferred"],
  honouredKeys: REGRESSION_HONOURED_KEYS,
  async setup(config, context) {
    const v = sectionValues(config, "REGRESSION", { application: "regression" });
    // One target vector per subject from a csv_data_file (NiftyNet's CSV reader) instead of target images.
    if (csvDataSection(config, v.output)) return await subjectValuesRun(config, context);
    const loss = context.action === "train" ? await configuredLoss(config, "regression") : undefined;
    return await windowAppRun(config, context, {
      roleKeys: ["image", "output", "weight", "sampler"],
      targetRole: "output",
      numClasses: 1,
      loss: (prediction, target, weight) =>
        loss!(
          cropBorder(prediction, v.loss_border),
          cropBorder(target, v.loss_border),
          weight ? cropBorder(weight, v.loss_border) : undefined,
        ),
      finish: (volume) => volume,
      labelOutput: false,
      classProbabilities: false,
      labelNormalisation: false,
      evaluate: async () => {
        await evaluateImages(config, { inferred: v.inferred, reference: v.output });
      },
    });
  },
};

registerApplication(regressionApplication);
