/**
 * NiftyNet's classification application (`net_classify`, section `[CLASSIFICATION]`): one class per image.
 *
 * - Roles: `image`, `label` (the class: a one-voxel image, a label image whose value at the window centre is
 *   the window's class, or a `csv_data_file` section with one class per subject), `sampler`, `inferred`.
 * - Training: windows from `window_sampling` (`resize` gives one whole-image window per subject); the network
 *   returns `[batch, num_classes]` logits; `loss_type` CrossEntropy (default).
 * - Inference: windows of each subject (resize: one; otherwise the grid), class probabilities averaged per
 *   subject, written to `<save_seg_dir>/inferred.csv` as `subject_id,class` rows (`subject_id,p0,p1,…` with
 *   `output_prob`).
 * - Evaluation: `classification_accuracy` / `roc_auc` over all subjects against the label section, written to
 *   `<save_csv_dir>/evaluation.csv`.
 *
 * @module
 */
import { join } from "node:path";
import { tf } from "../deps.ts";
import { applyNetwork, type VariableStore } from "../dsl/mod.ts";
import {
  type Application,
  type ApplicationRun,
  type Batch,
  type HostOutputs,
  registerApplication,
} from "../engine/application.ts";
import type { NiftyConfig } from "../engine/config/mod.ts";
import {
  ClassificationAggregator,
  findSectionFiles,
  readCsvData,
  type SamplerSpec,
  writeClassificationCsv,
} from "../data/mod.ts";
import { readImage } from "../io/mod.ts";
import { getMetric } from "../evaluation/mod.ts";
import { exists } from "../data/_files.ts";
import {
  INFERENCE_INPUT_HONOURED_KEYS,
  inferenceSubjects,
  requireRoles,
  rolesOf,
  sectionOptions,
  type SectionValues,
  sectionValues,
  trainingSubjects,
  windowSizesOf,
} from "./_inputs.ts";
import {
  augmentationOptions,
  imageInferenceBatches,
  loadPreprocessing,
  roleTensors,
  trainingBatches,
  WINDOW_INFERENCE_HONOURED_KEYS,
} from "./_windows.ts";
import { configuredLoss, configuredNetwork, NETWORK_OPTION_HONOURED_KEYS } from "./_plugins.ts";
import { addWindowRows, EVALUATION_CSV_HONOURED_KEYS, writeEvaluation } from "./_outputs.ts";
import {
  inputShapeOf,
  trainingSampler,
  WINDOW_TRAINING_HONOURED_KEYS,
  withoutInference,
  withoutTraining,
} from "./_window_app.ts";
import { composeKeys, type HonouredKeys } from "../engine/honoured_keys.ts";

type ClassificationValues = SectionValues<"CLASSIFICATION">;

/**
 * Every key the classification application acts on (with the driver's). Its inference writes one CSV row per
 * subject, so `output_postfix`, `output_interp_order`, `border` and `fill_constant` do not apply.
 */
export const CLASSIFICATION_HONOURED_KEYS: HonouredKeys = composeKeys([
  WINDOW_TRAINING_HONOURED_KEYS,
  INFERENCE_INPUT_HONOURED_KEYS,
  NETWORK_OPTION_HONOURED_KEYS,
  WINDOW_INFERENCE_HONOURED_KEYS,
  EVALUATION_CSV_HONOURED_KEYS,
  // `inferred.csv` in save_seg_dir (inference and evaluation); evaluateClasses.
  { INFERENCE: ["save_seg_dir"], EVALUATION: ["evaluations"] },
  // Class labels per subject from a CSV (the label section).
  { INPUT: ["csv_data_file", "to_ohe"] },
  {
    // Not yet: `inferred` (the evaluation reads `<save_seg_dir>/inferred.csv`, never that section).
    CLASSIFICATION: ["image", "label", "sampler", "num_classes", "output_prob", "label_normalisation"],
  },
]);

/** The classification application. */
export const classificationApplication: Application = {
  name: "classification",
  section: "CLASSIFICATION",
  aliases: ["classify", "net_classify"],
  inputRoles: ["image", "label", "sampler", "inferred"],
  honouredKeys: CLASSIFICATION_HONOURED_KEYS,
  async setup(config, context): Promise<ApplicationRun> {
    const v = sectionValues(config, "CLASSIFICATION", { application: "classification" });
    if (context.action !== "evaluate" && v.num_classes < 2) {
      throw new Error(`"${config.source}": [CLASSIFICATION] num_classes must be at least 2 (got ${v.num_classes})`);
    }
    const roles = rolesOf(config, ["image", "label", "sampler"]);
    requireRoles(config, roles, { needed: ["image"] });
    const { network, name } = await configuredNetwork(config, { numClasses: v.num_classes });
    const batchSize = config.network.batch_size;
    const sizes = windowSizesOf(config, { image: roles.image });
    const logits = (batch: Batch, model: { store: VariableStore; training: boolean }) => {
      const out = applyNetwork(network, [batch.tensors.image], model) as tf.Tensor;
      return tf.reshape(out, [out.shape[0], -1]) as tf.Tensor2D;
    };
    const loss = context.action === "train"
      ? await configuredLoss(config, "classification", { nClasses: v.num_classes })
      : undefined;
    const base = {
      network: network as ApplicationRun["network"],
      networkName: name,
      inputShapes: [inputShapeOf(sizes.image, { batch: batchSize, channels: roles.image.length })],
      objectives: [{
        name: "loss",
        loss: (batch: Batch, model: { store: VariableStore; training: boolean }) =>
          loss!(logits(batch, model), batch.tensors.label),
      }],
    };
    if (context.action === "train") {
      requireRoles(config, roles, { needed: ["label"], why: "for training" });
      await checkCsvClasses(config, roles.label[0], v.num_classes);
      const training = await trainingSubjects(config, roles);
      const preprocess = await loadPreprocessing(config, {
        roles,
        training,
        labelNormalisation: v.label_normalisation,
      });
      const samplerRoles = { image: roles.image, ...(roles.sampler ? { sampler: roles.sampler } : {}) };
      const sampler = trainingSampler(config, { roles: samplerRoles, sizes: windowSizesOf(config, samplerRoles) });
      const augmentation = augmentationOptions(config, ["sampler"]);
      return {
        ...base,
        batches: trainingBatches(config, training, {
          roles,
          sampler,
          preprocess,
          augmentation,
          batchSize,
          detached: ["label"],
          additions: [{ kind: "class", role: "label" }],
          toTensors: (windows) => roleTensors(windows, ["image", "label"]),
        }),
        ...withoutInference("train"),
      };
    }

    if (context.action === "evaluate") {
      return {
        ...base,
        ...withoutTraining("evaluate"),
        ...withoutInference("evaluate"),
        evaluate: () => evaluateClasses(config, v),
      };
    }

    const imageRoles = { image: roles.image };
    const subjects = await inferenceSubjects(config, imageRoles, { required: ["image"] });
    const preprocess = await loadPreprocessing(config, {
      roles,
      training: [],
      labelNormalisation: v.label_normalisation,
    });
    const inferSizes = windowSizesOf(config, imageRoles, { inference: true });
    const sampler: SamplerSpec = config.network.window_sampling === "resize"
      ? { kind: "resize", options: { spatialWindowSize: inferSizes } }
      : { kind: "grid", options: { spatialWindowSize: inferSizes, border: [0] } };
    const aggregator = new ClassificationAggregator();
    const dir = config.inference.save_seg_dir;
    return {
      ...base,
      inputShapes: [inputShapeOf(inferSizes.image, { batch: batchSize, channels: roles.image.length })],
      ...withoutTraining("infer"),
      inferenceBatches: imageInferenceBatches({
        config,
        subjects,
        roles: imageRoles,
        sampler,
        preprocess: { ...preprocess, labelMapping: undefined },
        batchSize,
      }),
      infer: (batch, model) => ({ probabilities: tf.softmax(logits(batch, model)) }),
      consume(batch: Batch, host: HostOutputs) {
        addWindowRows(aggregator, { windows: batch.windows ?? [], output: host.probabilities });
        return Promise.resolve();
      },
      async finishInference() {
        await Deno.mkdir(dir, { recursive: true });
        const mapping = preprocess.labelMapping;
        const rows = [...aggregator.result()].map(([id, p]): [string, ArrayLike<number>] => {
          if (v.output_prob) return [id, p];
          let best = 0;
          for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
          return [id, [mapping ? mapping.from[best] : best]];
        });
        await writeClassificationCsv(join(dir, "inferred.csv"), rows);
      },
    };
  },
};

/**
 * A `csv_data_file` label section must give every subject a class in [0, num_classes): one integer column, or a
 * one-hot vector (`to_ohe`) of num_classes values. The error names the file, the subject and the value.
 */
async function checkCsvClasses(config: NiftyConfig, section: string, numClasses: number): Promise<void> {
  const input = config.inputs[section];
  if (!input?.csv_data_file) return;
  const data = await readCsvData(input.csv_data_file, { toOhe: input.to_ohe });
  const file = `csv_data_file "${data.path}" (input section [${section}])`;
  if (input.to_ohe) {
    if (data.dims !== numClasses) {
      throw new Error(
        `${file}: to_ohe gives ${data.dims} classes (${data.classes?.join(", ")}) but num_classes is ${numClasses}`,
      );
    }
    return;
  }
  if (data.dims !== 1) {
    throw new Error(`${file}: a class label is one value per subject, the file has ${data.dims} value columns`);
  }
  for (const [id, [value]] of data.values) {
    if (!(Number.isInteger(value) && value >= 0 && value < numClasses)) {
      throw new Error(`${file}: subject "${id}" has class ${value}; expected an integer in [0, ${numClasses})`);
    }
  }
}

/** The class of one subject from a label section: its `csv_data_file` row, or the label image's centre voxel. */
async function referenceClass(config: NiftyConfig, section: string, id: string, path: string): Promise<number> {
  const input = config.inputs[section];
  if (input.csv_data_file) {
    const values = (await readCsvData(input.csv_data_file, { toOhe: input.to_ohe })).values.get(id)!;
    return values.length === 1 ? values[0] : values.indexOf(Math.max(...values));
  }
  const image = await readImage(path);
  const data = image.data as ArrayLike<number>;
  const [x, y, z] = image.shape;
  return Number(data[Math.floor(x / 2) + x * (Math.floor(y / 2) + y * Math.floor(z / 2))]);
}

/** Compares inferred classes with the label images' (or label CSV's) classes over all subjects. */
async function evaluateClasses(config: NiftyConfig, v: ClassificationValues): Promise<void> {
  const evaluations = config.evaluation.evaluations;
  if (!evaluations.length) throw new Error(`"${config.source}": [EVALUATION] evaluations is empty`);
  if (!v.label.length) throw new Error(`"${config.source}": evaluation needs [CLASSIFICATION] label`);
  const path = join(config.inference.save_seg_dir, "inferred.csv");
  if (!(await exists(path))) throw new Error(`evaluate: no "${path}": run inference first`);
  const rows = new Map<string, number[]>();
  for (const line of (await Deno.readTextFile(path)).split(/\r?\n/).filter((l) => l.trim())) {
    const [id, ...values] = line.split(",");
    rows.set(id.trim(), values.map(Number));
  }
  const refs = await findSectionFiles(v.label[0], sectionOptions(config.inputs[v.label[0]]));
  const predicted: number[] = [], scores: number[] = [], truth: number[] = [];
  for (const [id, values] of [...rows].sort(([a], [b]) => a < b ? -1 : 1)) {
    const ref = refs.get(id);
    if (!ref) continue;
    truth.push(await referenceClass(config, v.label[0], id, ref));
    const best = values.length === 1 ? values[0] : values.indexOf(Math.max(...values));
    predicted.push(best);
    scores.push(values.length > 1 ? values[values.length - 1] : values[0]);
  }
  if (!truth.length) throw new Error(`evaluate: none of the inferred subjects has a label in [${v.label[0]}]`);
  const values: Record<string, number> = {};
  for (const name of evaluations) {
    const metric = getMetric(name);
    if (metric.kind !== "classification") {
      throw new Error(`evaluations: "${name}" is not a classification metric (classification_accuracy, roc_auc)`);
    }
    values[name] = metric.compute(name === "roc_auc" ? scores : predicted, truth);
  }
  await writeEvaluation(config, [{ subjectId: "all", label: "", values }], { evaluations });
}

registerApplication(classificationApplication);
