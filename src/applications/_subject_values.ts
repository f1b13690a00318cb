/**
 * Regression of one value vector per subject (NiftyNet's `csv_data_file` as the regression target): the `output`
 * role's section is a `csv_data_file`, the network's output is averaged over its spatial axes to one vector per
 * window (as many channels as the file has value columns), the loss compares it with the subject's row, inference
 * averages the windows of each subject into `<save_seg_dir>/inferred.csv` (`subject_id,value[,value…]`), and
 * evaluation computes the regression metrics (`mse`, `mae` …) over all subjects' values.
 *
 * @module
 */
import { join } from "node:path";
import { tf } from "../deps.ts";
import { applyNetwork, type VariableStore } from "../dsl/mod.ts";
import type { ApplicationRun, Batch, HostOutputs } from "../engine/application.ts";
import type { NiftyConfig } from "../engine/config/mod.ts";
import { ClassificationAggregator, readCsvData, type SamplerSpec, writeClassificationCsv } from "../data/mod.ts";
import { exists } from "../data/_files.ts";
import { getMetric } from "../evaluation/mod.ts";
import { inferenceSubjects, requireRoles, rolesOf, trainingSubjects, windowSizesOf } from "./_inputs.ts";
import {
  augmentationOptions,
  imageInferenceBatches,
  loadPreprocessing,
  roleTensors,
  trainingBatches,
} from "./_windows.ts";
import { configuredLoss, configuredNetwork } from "./_plugins.ts";
import { addWindowRows, writeEvaluation } from "./_outputs.ts";
import { inputShapeOf, trainingSampler, withoutInference, withoutTraining } from "./_window_app.ts";

/** The `csv_data_file` of the section a role names, if it is one. */
export function csvDataSection(config: NiftyConfig, sections: readonly string[]): string | undefined {
  return sections.length ? config.inputs[sections[0]]?.csv_data_file || undefined : undefined;
}

/** One vector per window: the network output's spatial mean (`[batch, channels]`). */
function windowVector(out: tf.Tensor): tf.Tensor2D {
  const channels = out.shape[out.rank - 1];
  return tf.mean(tf.reshape(out, [out.shape[0], -1, channels]), 1) as tf.Tensor2D;
}

/** The regression run when the `output` role is a `csv_data_file` (see the module notes). */
export async function subjectValuesRun(
  config: NiftyConfig,
  context: { action: "train" | "infer" | "evaluate" },
): Promise<ApplicationRun> {
  const roles = rolesOf(config, ["image", "output", "sampler"]);
  requireRoles(config, roles, { needed: ["image", "output"] });
  const section = config.inputs[roles.output[0]];
  const table = await readCsvData(section.csv_data_file, { toOhe: section.to_ohe });
  const { network, name } = await configuredNetwork(config, { numClasses: table.dims });
  const batchSize = config.network.batch_size;
  const sizes = windowSizesOf(config, { image: roles.image });
  const predict = (batch: Batch, model: { store: VariableStore; training: boolean }) =>
    windowVector(applyNetwork(network, [batch.tensors.image], model) as tf.Tensor);
  const loss = context.action === "train" ? await configuredLoss(config, "regression") : undefined;
  const base = {
    network: network as ApplicationRun["network"],
    networkName: name,
    inputShapes: [inputShapeOf(sizes.image, { batch: batchSize, channels: roles.image.length })],
    objectives: [{
      name: "loss",
      loss: (batch: Batch, model: { store: VariableStore; training: boolean }) =>
        loss!(predict(batch, model), tf.reshape(batch.tensors.output, [-1, table.dims])),
    }],
  };
  if (context.action === "train") {
    const training = await trainingSubjects(config, roles);
    const preprocess = await loadPreprocessing(config, { roles, training, labelNormalisation: false });
    const samplerRoles = { image: roles.image, ...(roles.sampler ? { sampler: roles.sampler } : {}) };
    return {
      ...base,
      batches: trainingBatches(config, training, {
        roles,
        sampler: trainingSampler(config, { roles: samplerRoles, sizes: windowSizesOf(config, samplerRoles) }),
        preprocess,
        augmentation: augmentationOptions(config, ["sampler"]),
        batchSize,
        detached: ["output"],
        additions: [{ kind: "values", role: "output" }],
        toTensors: (windows) => roleTensors(windows, ["image", "output"]),
      }),
      ...withoutInference("train"),
    };
  }
  if (context.action === "evaluate") {
    return {
      ...base,
      ...withoutTraining("evaluate"),
      ...withoutInference("evaluate"),
      evaluate: () => evaluateValues(config, table.values),
    };
  }
  const imageRoles = { image: roles.image };
  const subjects = await inferenceSubjects(config, imageRoles, { required: ["image"] });
  const preprocess = await loadPreprocessing(config, { roles: imageRoles, training: [], labelNormalisation: false });
  const inferSizes = windowSizesOf(config, imageRoles, { inference: true });
  const sampler: SamplerSpec = config.network.window_sampling === "resize"
    ? { kind: "resize", options: { spatialWindowSize: inferSizes } }
    : { kind: "grid", options: { spatialWindowSize: inferSizes, border: [0] } };
  const aggregator = new ClassificationAggregator();
  return {
    ...base,
    inputShapes: [inputShapeOf(inferSizes.image, { batch: batchSize, channels: roles.image.length })],
    ...withoutTraining("infer"),
    inferenceBatches: imageInferenceBatches({ config, subjects, roles: imageRoles, sampler, preprocess, batchSize }),
    infer: (batch, model) => ({ values: predict(batch, model) }),
    consume(batch: Batch, host: HostOutputs) {
      addWindowRows(aggregator, { windows: batch.windows ?? [], output: host.values });
      return Promise.resolve();
    },
    async finishInference() {
      const dir = config.inference.save_seg_dir;
      await Deno.mkdir(dir, { recursive: true });
      await writeClassificationCsv(join(dir, "inferred.csv"), aggregator.result());
    },
  };
}

/** Regression metrics of the inferred values against the table, over all subjects (one row, `all`). */
async function evaluateValues(config: NiftyConfig, truth: ReadonlyMap<string, Float32Array>): Promise<void> {
  const evaluations = config.evaluation.evaluations;
  if (!evaluations.length) throw new Error(`"${config.source}": [EVALUATION] evaluations is empty`);
  const path = join(config.inference.save_seg_dir, "inferred.csv");
  if (!(await exists(path))) throw new Error(`evaluate: no "${path}": run inference first`);
  const predicted: number[] = [], reference: number[] = [];
  for (const line of (await Deno.readTextFile(path)).split(/\r?\n/).filter((l) => l.trim())) {
    const [id, ...values] = line.split(",");
    const row = truth.get(id.trim());
    if (!row) continue;
    predicted.push(...values.map(Number));
    reference.push(...row);
  }
  if (!reference.length) throw new Error(`evaluate: none of the subjects in "${path}" has a row in the csv_data_file`);
  const values: Record<string, number> = {};
  for (const name of evaluations) {
    const metric = getMetric(name);
    if (metric.kind !== "regression") {
      throw new Error(`evaluations: "${name}" is not a regression metric (mse, mae, psnr …)`);
    }
    values[name] = metric.compute(Float32Array.from(predicted), Float32Array.from(reference), [reference.length]);
  }
  await writeEvaluation(config, [{ subjectId: "all", label: "", values }], { evaluations });
}
