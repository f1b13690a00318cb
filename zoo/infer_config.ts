/**
 * NiftyNet's way of using a downloaded model: `zoo pull ID` leaves, beside the cached files, a folder
 * `<cache>/<id>/` with a checkpoint of the entry's weights and a `config.ini` that `cli.ts infer -c` runs on a
 * folder of scans (net_segment inference with a model-zoo config), and that fine-tuning can point
 * `restore_from` at. This module writes the config text; the CLI writes both files.
 *
 * The config reproduces `zoo run` up to its scan-level steps: scans are resampled to the entry's voxel size and
 * orientation, padded by the entry's crop padding (volume_padding_size, zeros as outside a conformed scan), and run as one
 * window of the conformed size plus padding through `zoo:<id>` (the entry's normalisation + MeshNet). `zoo run`'s
 * conform to exactly 256³, crop box, pre-model and largest-component filtering are not NiftyNet steps.
 *
 * @module
 */
import type { ZooManifest } from "./manifest.ts";
import { zooNetworkName } from "./network.ts";

/** The checkpoint iteration the cache's config infers with (`inference_iter`). */
export const ZOO_CHECKPOINT_ITERATION = 0;

/** The input section of the generated config. */
export const ZOO_CONFIG_IMAGE_SECTION = "T1";

/** The config file of an entry's cache folder, relative to that folder. */
export const ZOO_CONFIG_FILE = "config.ini";

/** `infer -c` config text for `manifest` (model_dir: the config's own folder). */
export function zooInferenceConfig(manifest: ZooManifest): string {
  const c = manifest.input.conform;
  const pad = manifest.input.crop.padding;
  const window = c.shape.map((n) => n + 2 * pad).join(", ");
  const classes = manifest.network.options.numClasses;
  return [
    `; ${manifest.id}: ${manifest.title} (written by \`zoo pull ${manifest.id}\`)`,
    `; NiftyNet-style inference with the zoo entry's weights (models/model.ckpt-${ZOO_CHECKPOINT_ITERATION}):`,
    `;   deno run -A cli.ts infer -c ${ZOO_CONFIG_FILE} --${ZOO_CONFIG_IMAGE_SECTION}.path_to_search SCANS --save_seg_dir OUT`,
    `; Fine-tune on your data: in your own config, [NETWORK] name = ${zooNetworkName(manifest.id)},`,
    `;   [TRAINING] restore_from = <this folder>/models/model.ckpt-${ZOO_CHECKPOINT_ITERATION}.safetensors and`,
    `;   vars_to_restore = ^MeshNet/ (or a subset, e.g. ^MeshNet/conv_[0-7]_ to retrain the classifier).`,
    `; Labels: ${manifest.output.labels.map((l) => `${l.value} ${l.name}`).join(", ")}`,
    `; Not NiftyNet steps, so not here: zoo run's conform to ${c.shape.join("x")}, crop box, pre-model, largest`,
    `;   connected component.`,
    "",
    `[${ZOO_CONFIG_IMAGE_SECTION}]`,
    "path_to_search = ./scans",
    "filename_contains =",
    `pixdim = ${c.voxelSize.join(", ")}`,
    `axcodes = ${[...c.axcodes].join(", ")}`,
    `spatial_window_size = ${window}`,
    "interp_order = 1",
    "",
    "[SYSTEM]",
    "model_dir = .",
    "",
    "[NETWORK]",
    `name = ${zooNetworkName(manifest.id)}`,
    "batch_size = 1",
    `volume_padding_size = ${pad}`,
    "volume_padding_mode = constant",
    "",
    "[INFERENCE]",
    `inference_iter = ${ZOO_CHECKPOINT_ITERATION}`,
    "save_seg_dir = ./output",
    `output_postfix = _${manifest.id}`,
    "output_interp_order = 0",
    "border = 0, 0, 0",
    "",
    "[SEGMENTATION]",
    `image = ${ZOO_CONFIG_IMAGE_SECTION}`,
    `num_classes = ${classes}`,
    "",
  ].join("\n");
}
