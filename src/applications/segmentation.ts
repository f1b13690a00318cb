/**
 * NiftyNet's segmentation application (`net_segment`, section `[SEGMENTATION]`).
 *
 * - Roles: `image` (sections stacked as channels), `label` (training target), `weight` (per-voxel loss weights),
 *   `sampler` (weighted/balanced sampling map), `inferred` (outputs to evaluate).
 * - Training: windows from `window_sampling` (uniform, weighted, balanced, resize), preprocessing
 *   (`whitening`, `normalisation`, `label_normalisation`, volume padding) and augmentation from `[TRAINING]`;
 *   the loss `loss_type` on the network's logits (`softmax` applies before probability losses); a label window
 *   larger than the output (valid convolutions) is centre-cropped to it.
 * - Inference: grid windows (`[INFERENCE] spatial_window_size`, `border`, `window_overlap`), optionally with
 *   test-time flips (`test_time_flipping_axes`, `uncertainty_map`), aggregated per subject (`window_blending`),
 *   argmax (or softmax probabilities with `output_prob`), label values mapped back, post-processed
 *   (`keep_largest_component`, `fill_holes`), written as `<save_seg_dir>/<subject><output_postfix>.nii.gz` on the
 *   image's original grid and affine (NIfTI intent NIFTI_INTENT_LABEL; `label_table` written beside).
 * - Evaluation: `[EVALUATION] evaluations` per subject and `evaluation_units`, against the label section, to
 *   `<save_csv_dir>/evaluation.csv` and `evaluation_summary.csv`.
 *
 * @module
 */
import { type Application, registerApplication } from "../engine/application.ts";
import { sectionValues } from "./_inputs.ts";
import { configuredLoss } from "./_plugins.ts";
import { argmaxChannels, softmaxChannels } from "./_outputs.ts";
import { WINDOW_APP_HONOURED_KEYS, windowAppRun } from "./_window_app.ts";
import { EVALUATE_IMAGES_HONOURED_KEYS, evaluateImages } from "./_evaluate_images.ts";
import { composeKeys, type HonouredKeys } from "../engine/honoured_keys.ts";
import { configuredLabelTable, LABEL_OUTPUT_HONOURED_KEYS, labelPostprocess } from "./_postprocess.ts";

/**
 * Every key the segmentation application acts on (with the driver's). Not yet: the selective sampler's
 * `min_sampling_ratio`, `compulsory_labels`, `rand_samples`, `min_numb_labels`, `proba_connect`.
 */
export const SEGMENTATION_HONOURED_KEYS: HonouredKeys = composeKeys([
  WINDOW_APP_HONOURED_KEYS,
  EVALUATE_IMAGES_HONOURED_KEYS,
  LABEL_OUTPUT_HONOURED_KEYS,
  {
    SEGMENTATION: [
      "image",
      "label",
      "weight",
      "sampler",
      "inferred",
      "num_classes",
      "output_prob",
      "label_normalisation",
      "softmax",
      "evaluation_units",
    ],
  },
]);

/** The segmentation application. */
export const segmentationApplication: Application = {
  name: "segmentation",
  section: "SEGMENTATION",
  aliases: ["segment", "net_segment"],
  inputRoles: ["image", "label", "weight", "sampler", "inferred"],
  honouredKeys: SEGMENTATION_HONOURED_KEYS,
  async setup(config, context) {
    const v = sectionValues(config, "SEGMENTATION", { application: "segmentation" });
    if (context.action !== "evaluate" && v.num_classes < 1) {
      throw new Error(`"${config.source}": [SEGMENTATION] num_classes must be set (got ${v.num_classes})`);
    }
    const numClasses = Math.max(1, v.num_classes);
    const loss = context.action === "train"
      ? await configuredLoss(config, "segmentation", { nClasses: numClasses, softmax: v.softmax })
      : undefined;
    return await windowAppRun(config, context, {
      roleKeys: ["image", "label", "weight", "sampler"],
      targetRole: "label",
      numClasses,
      loss: (prediction, target, weight) => loss!(prediction, target, weight),
      finish: (volume) => v.output_prob ? softmaxChannels(volume) : argmaxChannels(volume),
      labelOutput: !v.output_prob,
      classProbabilities: true,
      postprocess: context.action === "infer" ? labelPostprocess(config, { labelOutput: !v.output_prob }) : undefined,
      labelTable: context.action === "infer"
        ? await configuredLabelTable(config, { labelOutput: !v.output_prob })
        : undefined,
      labelNormalisation: v.label_normalisation,
      evaluate: async () => {
        await evaluateImages(config, { inferred: v.inferred, reference: v.label, units: v.evaluation_units });
      },
    });
  },
};

registerApplication(segmentationApplication);
