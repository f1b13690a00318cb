/**
 * Windows for the applications: preprocessing and augmentation settings from the config, and the config's settings
 * of the one window pipeline of `src/data` (`windowBatchSource`: each epoch rebuilt from its seed, so a resumed
 * run sees the same windows, whatever `num_threads`).
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { ApplicationRun, BatchSource, JsonValue } from "../engine/application.ts";
import type { NiftyConfig } from "../engine/config/mod.ts";
import {
  type AugmentationOptions,
  channelOf,
  formatHistogramRef,
  formatLabelMapping,
  labelMappingFrom,
  learnLabelMapping,
  multimodMask,
  parseHistogramRef,
  type PreprocessOptions,
  type SamplerSpec,
  type SmallerFinalBatchMode,
  type SubjectId,
  type SubjectInfo,
  SubjectLoader,
  type SubjectRecord,
  toBatchTensor,
  trainLandmarks,
  type Window,
  type WindowAddition,
  windowBatchSource,
} from "../data/mod.ts";
import type { ForegroundType, MultimodForegroundType } from "../data/preprocess/masks.ts";
import type { PaddingMode } from "../data/preprocess/padding.ts";
import { exists, writeTextAtomic } from "../data/_files.ts";
import { type Roles, sectionsOf, subjectsFor } from "./_inputs.ts";
import type { HonouredKeys } from "../engine/honoured_keys.ts";

/** Keys acted on by {@link preprocessOptions} and {@link loadPreprocessing}. */
export const PREPROCESSING_HONOURED_KEYS: HonouredKeys = {
  NETWORK: [
    "whitening",
    "normalisation",
    "normalise_foreground_only",
    "foreground_type",
    "multimod_foreground_type",
    "cutoff",
    "norm_type",
    "volume_padding_size",
    "volume_padding_mode",
    "volume_padding_to_size",
    "histogram_ref_file",
  ],
};

/**
 * Keys acted on by {@link augmentationOptions}.
 */
export const AUGMENTATION_HONOURED_KEYS: HonouredKeys = {
  TRAINING: [
    "random_flipping_axes",
    "rotation_angle",
    "rotation_angle_x",
    "rotation_angle_y",
    "rotation_angle_z",
    "scaling_percentage",
    "isotropic_scaling",
    "do_elastic_deformation",
    "num_ctrl_points",
    "deformation_sigma",
    "proportion_to_deform",
    "bias_field_range",
    "bf_order",
  ],
};

/**
 * Keys acted on by {@link windowBatches} for training and validation (the caller passes `batch_size`);
 * `num_threads` sampler threads.
 */
export const WINDOW_BATCH_HONOURED_KEYS: HonouredKeys = {
  SYSTEM: ["num_threads"],
  NETWORK: ["batch_size", "queue_length"],
};

/** Keys acted on by {@link windowBatches} for an inference pass (the final batch only exists there). */
export const WINDOW_INFERENCE_HONOURED_KEYS: HonouredKeys = { NETWORK: ["smaller_final_batch_mode"] };

/** Preprocessing settings of `[NETWORK]` (landmarks and label mapping are added by {@link loadPreprocessing}). */
export function preprocessOptions(config: NiftyConfig): PreprocessOptions {
  const n = config.network;
  const fg: Record<string, ForegroundType> = { thresh_plus: "threshold_plus", thresh_minus: "threshold_minus" };
  return {
    whitening: n.whitening,
    normalisation: n.normalisation,
    normaliseForegroundOnly: n.normalise_foreground_only,
    foregroundType: fg[n.foreground_type] ?? n.foreground_type as ForegroundType,
    multimodForegroundType:
      (n.multimod_foreground_type === "all" ? "and" : n.multimod_foreground_type) as MultimodForegroundType,
    cutoff: [n.cutoff[0], n.cutoff[1]],
    normType: n.norm_type,
    volumePaddingSize: n.volume_padding_size,
    volumePaddingMode: n.volume_padding_mode as PaddingMode,
    volumePaddingToSize: n.volume_padding_to_size,
  };
}

/**
 * Completes the preprocessing settings: histogram landmarks (`normalisation`) and the discrete label mapping
 * (`label_normalisation`) are read from `histogram_ref_file`, or learned from the training subjects and written
 * there when the file lacks them (NiftyNet keeps both in that file).
 */
export async function loadPreprocessing(
  config: NiftyConfig,
  options: {
    roles: Roles;
    training: readonly SubjectRecord[];
    labelNormalisation: boolean;
    labelRole?: string;
  },
): Promise<PreprocessOptions> {
  const base = preprocessOptions(config);
  const labelRole = options.labelRole ?? "label";
  if (!base.normalisation && !options.labelNormalisation) return base;
  const path = config.network.histogram_ref_file;
  const ref = (await exists(path)) ? parseHistogramRef(await Deno.readTextFile(path), path) : new Map();
  const imageSections = options.roles.image ?? [];
  const missingLandmarks = base.normalisation && imageSections.some((s) => !ref.has(s));
  const labelSection = options.roles[labelRole]?.[0];
  const missingMapping = options.labelNormalisation && labelSection && !labelMappingFrom(labelSection, ref);
  if (missingLandmarks || missingMapping) {
    if (options.training.length === 0) {
      throw new Error(
        `histogram_ref_file "${path}" lacks ${missingLandmarks ? "landmarks" : "the label mapping"}: train first`,
      );
    }
    const roles: Record<string, readonly string[]> = {};
    if (missingLandmarks) roles.image = imageSections;
    if (missingMapping) roles[labelRole] = [labelSection!];
    const loader = new SubjectLoader(options.training, { sections: sectionsOf(config, roles), roles, cacheSize: 1 });
    const channels: { data: Float32Array; mask?: Uint8Array }[][] = imageSections.map(() => []);
    const labels: Float32Array[] = [];
    for (let i = 0; i < loader.length; i++) {
      const s = await loader.load(i);
      if (missingLandmarks) {
        const v = s.volumes.image;
        const masks = base.normaliseForegroundOnly ? multimodMask(v, base) : undefined;
        for (let c = 0; c < v.channels && c < channels.length; c++) {
          channels[c].push({ data: channelOf(v, c), mask: masks?.[c] });
        }
      }
      if (missingMapping) labels.push(s.volumes[labelRole].data);
    }
    let text = (await exists(path)) ? await Deno.readTextFile(path) : "";
    if (missingLandmarks) {
      const learned = new Map<string, Float64Array>();
      imageSections.forEach((name, c) => learned.set(name, trainLandmarks(channels[c], base)));
      for (const [k, v] of learned) ref.set(k, v);
      text += formatHistogramRef(learned);
    }
    if (missingMapping) {
      const mapping = learnLabelMapping(labels);
      text += formatLabelMapping(labelSection!, mapping);
      ref.set(`${labelSection}_from`, Float64Array.from(mapping.from));
      ref.set(`${labelSection}_to`, Float64Array.from(mapping.to));
    }
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")) || ".", { recursive: true });
    await writeTextAtomic(path, text);
  }
  return {
    ...base,
    landmarks: base.normalisation ? imageSections.map((s) => ref.get(s)!) : undefined,
    labelMapping: options.labelNormalisation && labelSection ? labelMappingFrom(labelSection, ref) : undefined,
    labelRole,
  };
}

/** Training augmentation from `[TRAINING]` (undefined when every step is off). */
export function augmentationOptions(
  config: NiftyConfig,
  labelRoles: readonly string[],
): AugmentationOptions | undefined {
  const t = config.training;
  const flips = t.random_flipping_axes.filter((a) => a >= 0);
  const on = flips.length || t.rotation_angle.length || t.rotation_angle_x.length || t.rotation_angle_y.length ||
    t.rotation_angle_z.length || t.scaling_percentage.length || t.do_elastic_deformation || t.bias_field_range.length;
  if (!on) return undefined;
  return {
    randomFlippingAxes: flips,
    rotationAngle: t.rotation_angle,
    rotationAngleX: t.rotation_angle_x,
    rotationAngleY: t.rotation_angle_y,
    rotationAngleZ: t.rotation_angle_z,
    scalingPercentage: t.scaling_percentage,
    isotropicScaling: t.isotropic_scaling,
    doElasticDeformation: t.do_elastic_deformation,
    numCtrlPoints: t.num_ctrl_points,
    deformationSigma: t.deformation_sigma,
    proportionToDeform: t.proportion_to_deform,
    biasFieldRange: t.bias_field_range,
    bfOrder: t.bf_order,
    nearestRoles: labelRoles,
    order: 1,
  };
}

/** What a preprocessed subject keeps for putting outputs back (see `src/data/pipeline.ts`). */
export type { SubjectInfo };

/** Options of {@link windowBatches}. */
export interface WindowBatchesOptions {
  readonly config: NiftyConfig;
  readonly subjects: readonly SubjectRecord[];
  readonly roles: Roles;
  readonly sampler: SamplerSpec;
  readonly preprocess?: PreprocessOptions;
  readonly augmentation?: AugmentationOptions;
  readonly batchSize: number;
  readonly seed: number;
  readonly state?: JsonValue;
  /** Endless and shuffled (training) or one ordered pass (inference). */
  readonly endless: boolean;
  /** Turns windows into the batch's tensors by role. */
  readonly toTensors: (windows: readonly Window[]) => Record<string, tf.Tensor>;
  /** Receives each subject's info after preprocessing (inference bookkeeping). */
  readonly onSubject?: (id: SubjectId, info: SubjectInfo) => void;
  /** Roles loaded and preprocessed but not cut by the sampler (e.g. a classification label image). */
  readonly detached?: readonly string[];
  /** Data added to each window (a class from a detached role, a noise vector). */
  readonly additions?: readonly WindowAddition[];
}

/**
 * The window pipeline of `src/data` (`windowBatchSource`) configured from the config: `queue_length` windows read
 * ahead, `num_threads` sampler threads for training and validation, `smaller_final_batch_mode` for the final
 * inference batch (`pad` adds blank windows; `dynamic` and `drop` emit it short: inference never drops windows).
 * Subjects are loaded through a cache shared by every epoch (small datasets stay in memory).
 */
export function windowBatches(options: WindowBatchesOptions): BatchSource {
  const { config, subjects, roles } = options;
  if (subjects.length === 0) throw new Error(`"${config.source}": no subjects to sample from`);
  const onSubject = options.onSubject;
  return windowBatchSource({
    subjects,
    // Small datasets stay in memory across epochs; large volumes are re-read rather than piling up.
    loader: { sections: sectionsOf(config, roles), roles, cacheSize: Math.min(subjects.length, 8) },
    preprocess: options.preprocess,
    augmentation: options.augmentation,
    sampler: options.sampler,
    detached: options.detached,
    additions: options.additions,
  }, {
    batchSize: options.batchSize,
    seed: options.seed,
    state: options.state,
    endless: options.endless,
    queueLength: config.network.queue_length,
    numThreads: config.system.num_threads,
    smallerFinalBatch: config.network.smaller_final_batch_mode as SmallerFinalBatchMode,
    toTensors: options.toTensors,
    onSubject: onSubject && ((info) => onSubject(info.id, info)),
  });
}

/** Options of {@link imageInferenceBatches}: what differs between the applications that infer from images. */
export type ImageInferenceOptions = Pick<
  WindowBatchesOptions,
  "config" | "subjects" | "roles" | "sampler" | "preprocess" | "batchSize" | "onSubject"
>;

/**
 * The `inferenceBatches` of a run that infers from the `image` role: one ordered pass over the subjects' windows,
 * no augmentation, batches holding the image tensor only.
 */
export function imageInferenceBatches(options: ImageInferenceOptions): (run: { seed: number }) => Promise<BatchSource> {
  return ({ seed }) =>
    Promise.resolve(
      windowBatches({ ...options, seed, endless: false, toTensors: (windows) => roleTensors(windows, ["image"]) }),
    );
}

/** Options of {@link trainingBatches}: the {@link windowBatches} options that do not change with the phase. */
export type TrainingBatchesOptions = Omit<WindowBatchesOptions, "config" | "subjects" | "seed" | "state" | "endless">;

/**
 * The `batches` of a training run: endless shuffled windows of `training` (with `augmentation`) for the training
 * phase, of the split's `validation` subjects (every role required, no augmentation) for validation.
 */
export function trainingBatches(
  config: NiftyConfig,
  training: readonly SubjectRecord[],
  options: TrainingBatchesOptions,
): ApplicationRun["batches"] {
  const { roles } = options;
  return async (phase, { seed, state }) => {
    const subjects = phase === "training"
      ? training
      : await subjectsFor(config, roles, { required: Object.keys(roles), phases: ["validation"], createSplit: true });
    if (subjects.length === 0) {
      throw new Error(`"${config.source}": validation_every_n is set but no subject is marked for validation`);
    }
    return windowBatches({
      ...options,
      config,
      subjects,
      augmentation: phase === "training" ? options.augmentation : undefined,
      seed,
      state,
      endless: true,
    });
  };
}

/** Batch tensors of the given roles (`[b, x, y, z, c]`, or `[b, x, y, c]` for 2D windows). */
export function roleTensors(windows: readonly Window[], roles: readonly string[]): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const role of roles) if (windows[0].data[role]) out[role] = toBatchTensor(windows, role);
  return out;
}

/** Centre-crops `t`'s spatial axes to `like`'s (networks with valid convolutions return smaller outputs). */
export function cropLike(t: tf.Tensor, like: tf.Tensor): tf.Tensor {
  const rank = t.rank;
  const begin: number[] = [0], size: number[] = [t.shape[0]];
  let same = true;
  for (let d = 1; d < rank - 1; d++) {
    const diff = t.shape[d] - like.shape[d];
    if (diff < 0) {
      throw new Error(`the network output [${like.shape}] is larger than its target [${t.shape}]`);
    }
    if (diff) same = false;
    begin.push(Math.floor(diff / 2));
    size.push(like.shape[d]);
  }
  begin.push(0);
  size.push(t.shape[rank - 1]);
  return same ? t : tf.slice(t, begin, size);
}
