/**
 * The run shared by the window-based image-to-image applications (segmentation, regression): training windows
 * from the configured sampler with preprocessing and augmentation, the network on the `image` role, a loss
 * against a target role, grid inference aggregated per subject and written on the input's original grid.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { applyNetwork } from "../dsl/mod.ts";
import type { NiftyConfig } from "../engine/config/mod.ts";
import type { ChannelVolume, SamplerSpec, Window } from "../data/mod.ts";
import { predictWithFlips } from "../inference/mod.ts";
import type { InterpOrder } from "../geometry/resample.ts";
import type { NiftiDatatype } from "../geometry/image.ts";
import type { ApplicationRun, Batch, BatchSource, HostOutputs } from "../engine/application.ts";
import {
  INFERENCE_INPUT_HONOURED_KEYS,
  inferenceSubjects,
  INPUT_HONOURED_KEYS,
  interpOrders,
  requireRoles,
  type Roles,
  rolesOf,
  trainingSubjects,
  windowSizesOf,
} from "./_inputs.ts";
import {
  AUGMENTATION_HONOURED_KEYS,
  augmentationOptions,
  cropLike,
  imageInferenceBatches,
  loadPreprocessing,
  PREPROCESSING_HONOURED_KEYS,
  roleTensors,
  type SubjectInfo,
  trainingBatches,
  WINDOW_BATCH_HONOURED_KEYS,
  WINDOW_INFERENCE_HONOURED_KEYS,
} from "./_windows.ts";
import { VOLUME_OUTPUT_HONOURED_KEYS, VolumeOutputs } from "./_outputs.ts";
import {
  configuredNetwork,
  LOSS_HONOURED_KEYS,
  NETWORK_NAME_HONOURED_KEYS,
  NETWORK_OPTION_HONOURED_KEYS,
} from "./_plugins.ts";
import { composeKeys, type HonouredKeys } from "../engine/honoured_keys.ts";
import { planInference, refuseShard, SHARD_HONOURED_KEYS } from "./_shard.ts";

/** What varies between the window applications. */
export interface WindowAppSpec {
  /** Role keys of the application section (`image`, `label`, `weight`, `sampler` …). */
  readonly roleKeys: readonly string[];
  /** The training target role (`label`, `output`). */
  readonly targetRole: string;
  /** Network output channels. */
  readonly numClasses: number;
  /** Data loss of a prediction against its target (already cropped to the prediction) and optional weights. */
  readonly loss: (prediction: tf.Tensor, target: tf.Tensor, weight?: tf.Tensor) => tf.Scalar;
  /** Aggregated network output (padding removed) → the volume written. */
  readonly finish: (volume: ChannelVolume, info: SubjectInfo) => ChannelVolume;
  /** Outputs are label maps: undo the label normalisation and write integers. */
  readonly labelOutput: boolean;
  /** The network's outputs are class logits: test-time flips combine softmax probabilities (entropy possible). */
  readonly classProbabilities: boolean;
  /** Applied to each finished output volume once its label values are restored (post-processing). */
  readonly postprocess?: (volume: ChannelVolume) => ChannelVolume;
  /** Label maps: names and colours written beside them (`label_table`). */
  readonly labelTable?: readonly import("../io/mod.ts").LabelEntry[];
  readonly labelNormalisation: boolean;
  /** Evaluation action. */
  readonly evaluate?: () => Promise<void>;
}

/** Keys acted on by {@link trainingSampler}. */
export const SAMPLER_HONOURED_KEYS: HonouredKeys = {
  NETWORK: ["window_sampling"],
  TRAINING: ["sample_per_volume"],
};

/**
 * Keys acted on in training by every application that trains on windows: subjects and window sizes, the network's
 * name, the loss, preprocessing, augmentation, the training sampler and batching.
 */
export const WINDOW_TRAINING_HONOURED_KEYS: HonouredKeys = composeKeys([
  INPUT_HONOURED_KEYS,
  NETWORK_NAME_HONOURED_KEYS,
  LOSS_HONOURED_KEYS,
  PREPROCESSING_HONOURED_KEYS,
  AUGMENTATION_HONOURED_KEYS,
  SAMPLER_HONOURED_KEYS,
  WINDOW_BATCH_HONOURED_KEYS,
]);

/**
 * Keys acted on by {@link windowAppRun} and the helpers it calls (the application adds its own section's keys
 * and its evaluation's).
 */
export const WINDOW_APP_HONOURED_KEYS: HonouredKeys = composeKeys([
  WINDOW_TRAINING_HONOURED_KEYS,
  INFERENCE_INPUT_HONOURED_KEYS,
  NETWORK_OPTION_HONOURED_KEYS,
  WINDOW_INFERENCE_HONOURED_KEYS,
  VOLUME_OUTPUT_HONOURED_KEYS,
  SHARD_HONOURED_KEYS,
  // The writer's `outputInterpOrder`, the grid's overlap, blending and test-time flips below.
  {
    INFERENCE: [
      "output_interp_order",
      "window_overlap",
      "window_blending",
      "test_time_flipping_axes",
      "uncertainty_map",
    ],
  },
]);

/** The test-time flip axes of `[INFERENCE] test_time_flipping_axes` (-1 entries dropped), checked. */
export function testTimeFlips(config: NiftyConfig, { classProbabilities }: { classProbabilities: boolean }): {
  axes: number[];
  uncertainty: ("variance" | "entropy")[];
} {
  const i = config.inference;
  const axes = i.test_time_flipping_axes.filter((a) => a >= 0);
  const bad = axes.find((a) => a > 2);
  if (bad !== undefined) {
    throw new Error(`"${config.source}": [INFERENCE] test_time_flipping_axes entry ${bad}: expected 0, 1 or 2`);
  }
  const uncertainty = [...new Set(i.uncertainty_map)];
  if (uncertainty.length && !axes.length) {
    throw new Error(
      `"${config.source}": [INFERENCE] uncertainty_map = ${uncertainty.join(",")} needs test_time_flipping_axes ` +
        `(the maps are taken over the flipped passes)`,
    );
  }
  if (uncertainty.includes("entropy") && !classProbabilities) {
    throw new Error(`"${config.source}": [INFERENCE] uncertainty_map = entropy needs class outputs (segmentation)`);
  }
  return { axes, uncertainty };
}

/** Training sampler of `[NETWORK] window_sampling`. */
export function trainingSampler(
  config: NiftyConfig,
  { roles, sizes }: { roles: Roles; sizes: Record<string, number[]> },
): SamplerSpec {
  const samplePerVolume = config.training.sample_per_volume;
  switch (config.network.window_sampling) {
    case "weighted":
    case "balanced": {
      // NiftyNet samples by the `sampler` input; without one, the label map is the natural choice.
      const samplerRole = roles.sampler ? "sampler" : roles.label ? "label" : undefined;
      if (!samplerRole) {
        throw new Error(
          `"${config.source}": window_sampling = ${config.network.window_sampling} needs a sampler (or label) input`,
        );
      }
      return {
        kind: config.network.window_sampling,
        options: { spatialWindowSize: sizes, samplePerVolume, samplerRole },
      };
    }
    case "resize":
      return { kind: "resize", options: { spatialWindowSize: sizes, interpOrder: interpOrders(config, roles) } };
    default:
      return { kind: "uniform", options: { spatialWindowSize: sizes, samplePerVolume } };
  }
}

/** The network input shape of a window size and channel count (2D windows drop z). */
export function inputShapeOf(
  size: readonly number[],
  { batch, channels }: { batch: number; channels: number },
): number[] {
  const s = [size[0], size[1] ?? 1, size[2] ?? 1];
  return s[2] === 1 ? [batch, s[0], s[1], channels] : [batch, ...s, channels];
}

/** The training member of a run that does not train (`infer`, `evaluate`): asking it for batches fails. */
export function withoutTraining(action: string): Pick<ApplicationRun, "batches"> {
  return { batches: () => Promise.reject(new Error(`${action} does not train`)) };
}

/** The inference members of a run that does not infer (`train`, `evaluate`): no batches, nothing to consume. */
export function withoutInference(action: string): Pick<ApplicationRun, "inferenceBatches" | "infer" | "consume"> {
  return {
    inferenceBatches: () => Promise.reject(new Error(`${action} does not infer`)),
    infer: () => ({}),
    consume: () => Promise.resolve(),
  };
}

/** Sets up a window application run (see the module doc). */
export async function windowAppRun(
  config: NiftyConfig,
  context: { readonly action: "train" | "infer" | "evaluate"; readonly seed: number },
  spec: WindowAppSpec,
): Promise<ApplicationRun> {
  const roles = rolesOf(config, spec.roleKeys.filter((r) => r !== "inferred"));
  requireRoles(config, roles, { needed: ["image"] });
  const { network, name } = await configuredNetwork(config, { numClasses: spec.numClasses });
  const batchSize = config.network.batch_size;
  const imageChannels = roles.image.length;
  const trainSizes = windowSizesOf(config, roles);
  const base = {
    network: network as ApplicationRun["network"],
    networkName: name,
    inputShapes: [inputShapeOf(trainSizes.image, { batch: batchSize, channels: imageChannels })],
  };
  const objectives = [{
    name: "loss",
    loss: (batch: Batch, model: { store: import("../dsl/mod.ts").VariableStore; training: boolean }) => {
      const prediction = applyNetwork(network, [batch.tensors.image], model);
      const target = cropLike(batch.tensors[spec.targetRole], prediction);
      const weight = batch.tensors.weight ? cropLike(batch.tensors.weight, prediction) : undefined;
      return spec.loss(prediction, target, weight);
    },
  }];

  if (context.action === "evaluate") {
    return {
      ...base,
      objectives,
      ...withoutTraining("evaluate"),
      ...withoutInference("evaluate"),
      evaluate: spec.evaluate,
    };
  }

  if (context.action === "train") {
    refuseShard(config, "train");
    requireRoles(config, roles, { needed: [spec.targetRole], why: "for training" });
    const training = await trainingSubjects(config, roles);
    const preprocess = await loadPreprocessing(config, {
      roles,
      training,
      labelNormalisation: spec.labelNormalisation,
      labelRole: spec.targetRole,
    });
    const labelRoles = Object.keys(roles).filter((r) => r !== "image");
    const augmentation = augmentationOptions(config, spec.labelOutput ? labelRoles : ["sampler"]);
    const sampler = trainingSampler(config, { roles, sizes: trainSizes });
    const tensorRoles = ["image", spec.targetRole, ...(roles.weight ? ["weight"] : [])];
    return {
      ...base,
      objectives,
      batches: trainingBatches(config, training, {
        roles,
        sampler,
        preprocess,
        augmentation,
        batchSize,
        toTensors: (windows: readonly Window[]) => roleTensors(windows, tensorRoles),
      }),
      summaryImages: (batch, model) => {
        const prediction = applyNetwork(network, [batch.tensors.image], model) as tf.Tensor;
        return { prediction: spec.labelOutput ? tf.expandDims(tf.argMax(prediction, -1), -1) : prediction };
      },
      ...withoutInference("train"),
    };
  }

  // Inference: grid windows over the image role only.
  const imageRoles = { image: roles.image };
  const subjects = await inferenceSubjects(config, imageRoles, { required: ["image"] });
  if (subjects.length === 0) throw new Error(`"${config.source}": no subjects to infer`);
  const plan = await planInference(config, subjects);
  const preprocess = await loadPreprocessing(config, {
    roles,
    training: [],
    labelNormalisation: spec.labelNormalisation,
    labelRole: spec.targetRole,
  });
  // NiftyNet infers with the resize sampler (at the input sections' window size) and the resize aggregator when it
  // trains with it, with grid windows ([INFERENCE] spatial_window_size, if set) otherwise.
  const resize = config.network.window_sampling === "resize";
  const sizes = windowSizesOf(config, imageRoles, { inference: !resize });
  const grid = { spatialWindowSize: sizes, border: config.inference.border, overlap: config.inference.window_overlap };
  const flips = testTimeFlips(config, spec);
  const sampler: SamplerSpec = resize
    ? { kind: "resize", options: { spatialWindowSize: sizes, interpOrder: interpOrders(config, imageRoles) } }
    : { kind: "grid", options: grid };
  const datatype: NiftiDatatype = spec.labelOutput ? "int16" : "float32";
  // Inference windows carry no label; the mapping is kept to map predicted classes back to label values.
  const labelMapping = preprocess.labelMapping;
  const outputs = new VolumeOutputs({
    grid,
    border: config.inference.border,
    fillConstant: config.inference.fill_constant,
    writer: {
      saveSegDir: config.inference.save_seg_dir,
      outputPostfix: config.inference.output_postfix,
      outputInterpOrder: config.inference.output_interp_order as InterpOrder,
      datatype,
      listName: plan.listName,
      listed: plan.kept,
      labels: spec.labelOutput,
      labelTable: spec.labelTable,
    },
    finish: spec.finish,
    labels: spec.labelOutput,
    blending: config.inference.window_blending,
    extras: flips.uncertainty,
    postprocess: spec.postprocess,
    onWritten: (id) => plan.meter.done(id),
    resize: resize ? { order: config.inference.output_interp_order as InterpOrder } : undefined,
  });
  if (plan.shard) await outputs.writeList();
  return {
    ...base,
    inputShapes: [inputShapeOf(sizes.image, { batch: batchSize, channels: imageChannels })],
    objectives,
    ...withoutTraining("infer"),
    inferenceBatches: plan.todo.length === 0 ? () => Promise.resolve(emptySource()) : imageInferenceBatches({
      config,
      subjects: plan.todo,
      roles: imageRoles,
      sampler,
      preprocess: { ...preprocess, labelMapping: undefined },
      batchSize,
      onSubject: (id, info) => outputs.subject(id, { ...info, record: { ...info.record, labelMapping } }),
    }),
    infer: (batch, model) => {
      const predict = (x: tf.Tensor) => applyNetwork(network, [x], model) as tf.Tensor;
      if (!flips.axes.length) return { output: predict(batch.tensors.image) };
      const out = predictWithFlips(batch.tensors.image, predict, {
        axes: flips.axes,
        probabilities: spec.classProbabilities,
        uncertainty: flips.uncertainty,
      });
      return Object.fromEntries(Object.entries(out).filter(([, t]) => t !== undefined)) as Record<string, tf.Tensor>;
    },
    consume: (batch: Batch, host: HostOutputs) => outputs.add(batch.windows ?? [], host.output, host),
    finishInference: async () => {
      await outputs.flush();
      console.log(plan.meter.summary());
    },
  };
}

/** A batch source with no batches (a shard whose subjects are all done). */
function emptySource(): BatchSource {
  return { next: () => Promise.resolve(undefined), state: () => null };
}
