/**
 * Every config key NiftyNet 0.6 defines (its `user_parameters_default.py` and `user_parameters_custom.py`), with
 * NiftyNet's defaults, plus a few NiftyTS extensions (marked so). Each key knows how its text converts, the zod
 * schema its value must satisfy, where a relative path resolves, and whether we support it yet: a key we do not
 * support fails loudly when set to anything but its default, never silently ignored.
 *
 * @module
 */
import { z } from "../../deps.ts";
import { ACTIVATIONS } from "../../../layers/activation.ts";

/** How an entry's text converts to a value. */
export type KeyKind = "int" | "float" | "bool" | "string" | "strings" | "ints" | "floats" | "path" | "paths";

/** One key: conversion, default, validation and support status. */
export interface KeySpec<T> {
  readonly kind: KeyKind;
  readonly default: T;
  /** Validates the converted value (and values read back from JSON). */
  readonly schema: z.ZodType<T>;
  readonly help: string;
  /** Lower-case the text before validation (names matched case-insensitively). */
  readonly lowercase?: boolean;
  /** Relative paths resolve against the config file's folder or against `model_dir`. */
  readonly relativeTo?: "config" | "model";
  /** Why a value is not supported yet (undefined: supported). */
  readonly unsupported?: (value: T) => string | undefined;
  /** A NiftyTS addition, not a NiftyNet key. */
  readonly extension?: boolean;
}

/** Any key spec (for tables). */
// deno-lint-ignore no-explicit-any
export type AnyKeySpec = KeySpec<any>;

/** The typed values of a section table. */
export type SectionValues<S extends Record<string, AnyKeySpec>> = {
  -readonly [K in keyof S]: S[K] extends KeySpec<infer T> ? T : never;
};

interface Extra<T> {
  unsupported?: (value: T) => string | undefined;
  extension?: boolean;
}

function int(def: number, help: string, o: Extra<number> & { min?: number; max?: number } = {}): KeySpec<number> {
  let schema = z.number().int();
  if (o.min !== undefined) schema = schema.min(o.min);
  if (o.max !== undefined) schema = schema.max(o.max);
  return { kind: "int", default: def, schema, help, ...o };
}

function float(def: number, help: string, o: Extra<number> & { min?: number; max?: number } = {}): KeySpec<number> {
  let schema = z.number();
  if (o.min !== undefined) schema = schema.min(o.min);
  if (o.max !== undefined) schema = schema.max(o.max);
  return { kind: "float", default: def, schema, help, ...o };
}

function optionalFloat(help: string): KeySpec<number | null> {
  return { kind: "float", default: null, schema: z.number().nullable(), help };
}

function bool(def: boolean, help: string, o: Extra<boolean> = {}): KeySpec<boolean> {
  return { kind: "bool", default: def, schema: z.boolean(), help, ...o };
}

function str(def: string, help: string, o: Extra<string> = {}): KeySpec<string> {
  return { kind: "string", default: def, schema: z.string(), help, ...o };
}

function choice<C extends string>(def: C, choices: readonly C[], help: string, o: Extra<C> & {
  lowercase?: boolean;
} = {}): KeySpec<C> {
  return { kind: "string", default: def, schema: z.enum(choices as [C, ...C[]]), help, ...o };
}

function strs(def: readonly string[], help: string, o: Extra<string[]> = {}): KeySpec<string[]> {
  return { kind: "strings", default: [...def], schema: z.array(z.string()), help, ...o };
}

function ints(
  def: readonly number[],
  help: string,
  o: Extra<number[]> & { min?: number; maxLength?: number } = {},
): KeySpec<number[]> {
  let item = z.number().int();
  if (o.min !== undefined) item = item.min(o.min);
  let schema = z.array(item);
  if (o.maxLength !== undefined) schema = schema.max(o.maxLength);
  return { kind: "ints", default: [...def], schema, help, ...o };
}

function floats(
  def: readonly number[],
  help: string,
  o: Extra<number[]> & { length?: number } = {},
): KeySpec<number[]> {
  const schema = o.length === undefined
    ? z.array(z.number())
    : z.array(z.number()).refine((a) => a.length === 0 || a.length === o.length, `expected ${o.length} numbers`);
  return { kind: "floats", default: [...def], schema, help, ...o };
}

function path(def: string, relativeTo: "config" | "model", help: string): KeySpec<string> {
  return { kind: "path", default: def, schema: z.string(), help, relativeTo };
}

function paths(relativeTo: "config" | "model", help: string): KeySpec<string[]> {
  return { kind: "paths", default: [], schema: z.array(z.string()), help, relativeTo };
}

const notYet = (what: string) => (v: unknown) => `${what} is not supported yet (got ${JSON.stringify(v)})`;
const unlessDefault = <T>(def: T, what: string) => (v: T) =>
  JSON.stringify(v) === JSON.stringify(def) ? undefined : notYet(what)(v);

const DEFAULT_EVENT_HANDLERS = [
  "model_saver",
  "model_restorer",
  "sampler_threading",
  "apply_gradients",
  "output_interpreter",
  "console_logger",
  "tensorboard_logger",
  "performance_logger",
];

/** `[SYSTEM]`. */
export const SYSTEM_KEYS = {
  cuda_devices: str("", "CUDA_VISIBLE_DEVICES (CUDA does not apply to tfjs)", {
    unsupported: (v) => v === "" ? undefined : notYet("cuda_devices")(v),
  }),
  num_threads: int(
    1,
    "sampler threads: 1 cuts training windows in the training thread, N > 1 on N worker threads (same windows; " +
      "NiftyNet's default is 2, NiftyTS's 1 since a worker takes about a second to start)",
    { min: 1 },
  ),
  num_gpus: int(1, "number of training devices", {
    min: 0,
    unsupported: (v) => v <= 1 ? undefined : notYet("training on several devices (num_gpus > 1)")(v),
  }),
  model_dir: path("", "config", "where checkpoints, logs and outputs go (default: <config folder>/model)"),
  dataset_split_file: path("./dataset_split.csv", "model", "subject → training/validation/inference table"),
  event_handler: strs(DEFAULT_EVENT_HANDLERS, "NiftyNet event handlers", {
    unsupported: unlessDefault(DEFAULT_EVENT_HANDLERS, "a custom event_handler list"),
  }),
  iteration_generator: str("iteration_generator", "NiftyNet iteration generator class", {
    unsupported: unlessDefault("iteration_generator", "a custom iteration_generator"),
  }),
  random_seed: int(-1, "NiftyTS: seed of every random choice (-1: drawn once and saved with the checkpoints)", {
    min: -1,
    extension: true,
  }),
  shard: {
    kind: "string",
    default: "",
    schema: z.string().refine((v) => v === "" || /^\s*\d+\s*\/\s*\d+\s*$/.test(v) && isShard(v), {
      message: "expected i/n with 0 <= i < n, e.g. 0/4",
    }),
    help: "NiftyTS: infer/evaluate only this shard's subjects, i/n with 0 <= i < n (see deploy/README.md)",
    extension: true,
  } as KeySpec<string>,
  fold: {
    kind: "string",
    default: "",
    schema: z.string().refine((v) => v === "" || isFold(v), {
      message: "expected k/K with 1 <= k <= K and K >= 2, e.g. 2/5",
    }),
    help: "NiftyTS: cross-validation fold k/K: fold k of the split's non-inference subjects validates, the others " +
      "train; outputs go to <model_dir>/fold_k_of_K (see the cv command)",
    extension: true,
  } as KeySpec<string>,
};

function isFold(text: string): boolean {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  return !!m && Number(m[2]) >= 2 && Number(m[1]) >= 1 && Number(m[1]) <= Number(m[2]);
}

function isShard(text: string): boolean {
  const [i, n] = text.split("/").map(Number);
  return n >= 1 && i < n;
}

/** `[NETWORK]`. */
export const NETWORK_KEYS = {
  name: str("", "network: a registered name, a module path or a URL, or zoo:<id> (a zoo entry)"),
  activation_function: choice("relu", ACTIVATIONS, "activation of the network's layers", { lowercase: true }),
  batch_size: int(2, "windows per iteration", { min: 1 }),
  smaller_final_batch_mode: choice("pad", ["pad", "drop", "dynamic"] as const, "how the final smaller batch is made", {
    lowercase: true,
  }),
  decay: float(0, "weight decay (regularisation strength)", { min: 0 }),
  reg_type: choice("L2", ["L2", "L1"] as const, "regulariser type"),
  volume_padding_size: ints([0, 0, 0], "padding of each volume (1 value: all three dims)", { min: 0, maxLength: 3 }),
  volume_padding_mode: str("minimum", "numpy.pad mode of the volume padding"),
  volume_padding_to_size: ints([0], "pad volumes up to this size (0: off)", { min: 0, maxLength: 3 }),
  window_sampling: choice(
    "uniform",
    ["uniform", "resize", "balanced", "weighted", "patch"] as const,
    "how windows are sampled in training",
    { lowercase: true, unsupported: (v) => v === "patch" ? notYet("window_sampling = patch")(v) : undefined },
  ),
  force_output_identity_resizing: bool(false, "output keeps the label's shape", {
    unsupported: unlessDefault(false, "force_output_identity_resizing"),
  }),
  queue_length: int(5, "window buffer length", { min: 1 }),
  multimod_foreground_type: choice("and", ["and", "or", "multi", "all"] as const, "how modality masks combine"),
  histogram_ref_file: path("./histogram_ref_file.txt", "model", "histogram standardisation landmarks"),
  norm_type: choice("percentile", ["percentile", "quartile"] as const, "histogram landmark type"),
  cutoff: floats([0.01, 0.99], "histogram cut-offs", { length: 2 }),
  foreground_type: choice(
    "otsu_plus",
    ["otsu_plus", "otsu_minus", "thresh_plus", "thresh_minus", "mean_plus"] as const,
    "foreground mask",
  ),
  normalisation: bool(false, "histogram standardisation"),
  rgb_normalisation: bool(false, "RGB histogram equalisation", {
    unsupported: unlessDefault(false, "rgb_normalisation"),
  }),
  whitening: bool(false, "zero mean, unit variance per volume"),
  normalise_foreground_only: bool(false, "normalise inside the foreground mask only"),
  weight_initializer: str("he_normal", "initializer of weights"),
  bias_initializer: str("zeros", "initializer of biases"),
  weight_initializer_args: str("", "initializer arguments (YAML)", {
    unsupported: unlessDefault("", "weight_initializer_args"),
  }),
  bias_initializer_args: str("", "initializer arguments (YAML)", {
    unsupported: unlessDefault("", "bias_initializer_args"),
  }),
  keep_prob: float(1, "dropout keep probability", { min: 0, max: 1 }),
};

/** Optimisers by their NiftyNet names. */
export const OPTIMISERS = ["adam", "gradientdescent", "momentum", "nesterov", "adagrad", "rmsprop"] as const;
/** Optimiser name. */
export type OptimiserName = typeof OPTIMISERS[number];

/** `[TRAINING]`. */
export const TRAINING_KEYS = {
  optimiser: choice("adam", OPTIMISERS, "optimiser", { lowercase: true }),
  sample_per_volume: int(1, "windows drawn per volume", { min: 1 }),
  rotation_angle: floats([], "random rotation range in degrees", { length: 2 }),
  rotation_angle_x: floats([], "random x rotation range", { length: 2 }),
  rotation_angle_y: floats([], "random y rotation range", { length: 2 }),
  rotation_angle_z: floats([], "random z rotation range", { length: 2 }),
  scaling_percentage: floats([], "random scaling range in percent", { length: 2 }),
  isotropic_scaling: bool(false, "same scaling factor on every axis"),
  antialiasing: bool(true, "smooth before down-scaling"),
  bias_field_range: floats([], "random bias field coefficients", { length: 2 }),
  bf_order: int(3, "bias field polynomial order", { min: 0 }),
  random_flipping_axes: ints([-1], "axes to flip at random (-1: none)", { min: -1 }),
  spatial_rank: int(3, "image dimensionality", { min: 2, max: 3 }),
  do_elastic_deformation: bool(false, "elastic deformation"),
  num_ctrl_points: int(4, "elastic deformation control points", { min: 1 }),
  deformation_sigma: float(15, "elastic deformation sigma"),
  proportion_to_deform: float(0.5, "fraction of windows deformed", { min: 0, max: 1 }),
  lr: float(0.01, "learning rate", { min: 0 }),
  lr_schedule: choice("constant", ["constant", "step", "poly"] as const, "NiftyTS: learning rate schedule", {
    lowercase: true,
    extension: true,
  }),
  lr_decay_every: int(1000, "NiftyTS: step schedule period in iterations", { min: 1, extension: true }),
  lr_decay_factor: float(0.1, "NiftyTS: step schedule factor", { min: 0, extension: true }),
  lr_poly_power: float(0.9, "NiftyTS: poly schedule power", { min: 0, extension: true }),
  loss_type: str("Dice", "loss function name (or module path / URL)"),
  starting_iter: int(0, "resume from this iteration (-1: the latest checkpoint)", { min: -1 }),
  save_every_n: int(500, "checkpoint period (0: only at the end)", { min: 0 }),
  tensorboard_every_n: int(20, "TensorBoard period (0: never)", { min: 0 }),
  max_iter: int(10000, "total number of iterations", { min: 0 }),
  max_checkpoints: int(100, "checkpoints kept", { min: 1 }),
  validation_every_n: int(-1, "validation period (≤ 0: no validation)"),
  validation_max_iter: int(1, "validation batches per validation", { min: 1 }),
  exclude_fraction_for_validation: float(0, "fraction of subjects for validation", { min: 0, max: 1 }),
  exclude_fraction_for_inference: float(0, "fraction of subjects for inference", { min: 0, max: 1 }),
  vars_to_restore: str("", "regex: variables restored from the checkpoint, the others initialised"),
  vars_to_freeze: str("", "regex: variables kept fixed"),
  restore_scope_mapping: strs([], "NiftyTS: from/=to/ renames applied with vars_to_restore", { extension: true }),
  restore_from: path("", "config", "NiftyTS: checkpoint file to restore vars_to_restore from (default: model_dir's)"),
  patience: int(100, "validation rounds in the early-stopping window", { min: 1 }),
  early_stopping_mode: choice(
    "mean",
    [
      "mean",
      "robust_mean",
      "median",
      "generalisation_loss",
      "std",
      "robust_std",
      "median_smoothing",
      "validation_up",
    ] as const,
    "early stopping criterion",
    {
      unsupported: (v) =>
        ["mean", "median", "robust_mean", "generalisation_loss"].includes(v)
          ? undefined
          : notYet(`early_stopping_mode ${v}`)(v),
    },
  ),
};

/** `[INFERENCE]`. */
export const INFERENCE_KEYS = {
  spatial_window_size: ints([], "inference window size (default: the input sections')", { min: 0, maxLength: 3 }),
  inference_iter: int(-1, "checkpoint iteration to use (-1: latest)", { min: -1 }),
  dataset_to_infer: choice("", ["", "training", "validation", "inference"] as const, "which subjects", {
    lowercase: true,
  }),
  save_seg_dir: path("./output", "model", "output folder"),
  output_postfix: str("_niftynet_out", "suffix of output file names"),
  output_interp_order: int(0, "interpolation order of outputs", { min: 0, max: 3 }),
  border: ints([0, 0, 0], "border cropped from each output window", { min: 0, maxLength: 3 }),
  fill_constant: float(0, "value of voxels no window covered"),
  window_blending: choice(
    "none",
    ["none", "constant", "gaussian"] as const,
    "NiftyTS: how overlapping windows combine: none (NiftyNet's grid, later windows overwrite), constant (mean) " +
      "or gaussian (weights σ = window/8, MONAI's mode); each window contributes its input window minus border",
    { lowercase: true, extension: true },
  ),
  window_overlap: {
    kind: "float",
    default: 0,
    schema: z.number().min(0).lt(1),
    help: "NiftyTS: fraction of the window minus 2*border shared by neighbours, in [0, 1): grid step = " +
      "floor((window - 2*border)*(1 - window_overlap)); 0 is NiftyNet's step (MONAI's overlap)",
    extension: true,
  } as KeySpec<number>,
  test_time_flipping_axes: ints(
    [-1],
    "NiftyTS: test-time flips: the network also runs on every combination of flips over these axes (2^k passes), " +
      "outputs flipped back and averaged (class probabilities for segmentation; -1: none)",
    { min: -1, maxLength: 3, extension: true },
  ),
  uncertainty_map: {
    kind: "strings",
    default: [],
    schema: z.array(z.enum(["variance", "entropy"])),
    help: "NiftyTS: with test_time_flipping_axes, also write <subject><output_postfix>_variance / _entropy.nii.gz: " +
      "voxel-wise variance over the passes (of class probabilities, mean over classes) / entropy of the mean " +
      "class probability in nats",
    lowercase: true,
    extension: true,
  } as KeySpec<("variance" | "entropy")[]>,
  keep_largest_component: {
    kind: "strings",
    default: [],
    schema: z.array(z.string().regex(/^(all|foreground|\d+)$/, "expected all, foreground or label values")),
    help: "NiftyTS: segmentation post-processing, largest 26-connected component: of each listed label value, of " +
      "every label (all), or of the union of labels (foreground: other voxels become 0)",
    lowercase: true,
    extension: true,
  } as KeySpec<string[]>,
  fill_holes: {
    kind: "strings",
    default: [],
    schema: z.array(z.string().regex(/^(all|\d+)$/, "expected all or label values")),
    help: "NiftyTS: segmentation post-processing after keep_largest_component: background voxels enclosed by a " +
      "listed label (all: every label) take it (scipy binary_fill_holes per label)",
    lowercase: true,
    extension: true,
  } as KeySpec<string[]>,
  label_table: {
    ...path(
      "",
      "config",
      "NiftyTS: label names/colours (FreeSurfer LUT text or NiiVue/brainchop colormap JSON), written beside the " +
        "segmentations as label_lut.txt (FreeSurfer), label_lut.lut (FSLeyes) and label_colormap.json (NiiVue); " +
        "label maps always carry NIfTI intent 1002",
    ),
    extension: true,
  } as KeySpec<string>,
};

/** `[EVALUATION]`. */
export const EVALUATION_KEYS = {
  evaluations: strs([], "metrics to compute"),
  save_csv_dir: path("./evaluation", "model", "where evaluation CSV files go"),
  surface_tolerance: float(1, "NiftyTS: tolerance of surface_dice in mm (also evaluate --surface-tolerance)", {
    min: 0,
    extension: true,
  }),
};

/** Keys of an input source section (any section that is not a system or application section). */
export const INPUT_KEYS = {
  csv_file: path("", "config", "subject,path list (read when it exists, written after a search otherwise)"),
  csv_data_file: path(
    "",
    "config",
    "values per subject instead of images: headerless subject_id,value[,value…] rows (classes, regression targets)",
  ),
  to_ohe: bool(false, "one-hot encode a one-column csv_data_file over its distinct values"),
  path_to_search: paths("config", "folders searched for images"),
  filename_contains: strs([], "file name keywords (all must appear)"),
  filename_not_contains: strs([], "file name keywords that exclude a file"),
  filename_removefromid: str("", "regex removed from file names to form subject ids"),
  interp_order: int(1, "interpolation order when resampling", { min: 0, max: 3 }),
  loader: str("", "image loader (every format is read by NiftyTS's own reader)"),
  pixdim: floats([], "resample to this voxel size"),
  axcodes: strs([], "reorient to these axis codes"),
  spatial_window_size: ints([], "window size (1 to 3 numbers)", { min: 0, maxLength: 3 }),
};

const segmentationRoles = {
  image: strs([], "input sections of the image"),
  label: strs([], "input section of the label"),
  weight: strs([], "input section of the loss weights"),
  sampler: strs([], "input section of the sampling map"),
  inferred: strs([], "input section of the inferred segmentation (evaluation)"),
};

/** `[SEGMENTATION]`. */
export const SEGMENTATION_KEYS = {
  ...segmentationRoles,
  num_classes: int(-1, "number of classes", { min: -1 }),
  output_prob: bool(false, "write class probabilities"),
  label_normalisation: bool(false, "map label values to 0..n-1"),
  softmax: bool(true, "softmax before the loss"),
  min_sampling_ratio: float(0, "selective sampler minimum ratio", { min: 0 }),
  compulsory_labels: ints([0, 1], "selective sampler labels"),
  rand_samples: int(0, "selective sampler random windows", { min: 0 }),
  min_numb_labels: int(1, "selective sampler labels per window", { min: 1 }),
  proba_connect: bool(true, "selective sampler connectivity"),
  evaluation_units: choice("foreground", ["foreground", "label", "cc"] as const, "per-label or per-component metrics"),
};

/** `[REGRESSION]`. */
export const REGRESSION_KEYS = {
  image: strs([], "input sections of the image"),
  output: strs([], "input section of the regression target"),
  weight: strs([], "input section of the loss weights"),
  sampler: strs([], "input section of the sampling map"),
  inferred: strs([], "input section of the inferred output (evaluation)"),
  loss_border: int(0, "border ignored by the loss", { min: 0 }),
  error_map: bool(false, "write error maps", { unsupported: unlessDefault(false, "error_map") }),
};

/** `[CLASSIFICATION]`. */
export const CLASSIFICATION_KEYS = {
  image: strs([], "input sections of the image"),
  label: strs([], "input section of the class label"),
  sampler: strs([], "input section of the sampling map"),
  inferred: strs([], "input section of the inferred class (evaluation)"),
  num_classes: int(-1, "number of classes", { min: -1 }),
  output_prob: bool(false, "write class probabilities"),
  label_normalisation: bool(false, "map label values to 0..n-1"),
};

/** `[AUTOENCODER]`. */
export const AUTOENCODER_KEYS = {
  image: strs([], "input sections of the image"),
  feature: strs([], "input section of encoded features"),
  inference_type: choice(
    "",
    ["", "encode", "encode-decode", "sample", "linear_interpolation"] as const,
    "what inference produces",
  ),
  noise_stddev: optionalFloat("noise standard deviation of the sample inference"),
  n_interpolations: int(10, "interpolation steps", { min: 1 }),
};

/** `[GAN]`. */
export const GAN_KEYS = {
  image: strs([], "input sections of the real images"),
  conditioning: strs([], "input sections of the conditioning"),
  noise_size: int(-1, "length of the noise vector", { min: -1 }),
  n_interpolations: int(10, "interpolation steps", { min: 1 }),
};

/** Application sections by NiftyNet section name. */
export const APPLICATION_SECTIONS = {
  SEGMENTATION: SEGMENTATION_KEYS,
  REGRESSION: REGRESSION_KEYS,
  CLASSIFICATION: CLASSIFICATION_KEYS,
  AUTOENCODER: AUTOENCODER_KEYS,
  GAN: GAN_KEYS,
} as const;

/** Name of an application section. */
export type ApplicationSection = keyof typeof APPLICATION_SECTIONS;

/** The system sections. */
export const SYSTEM_SECTIONS = {
  SYSTEM: SYSTEM_KEYS,
  NETWORK: NETWORK_KEYS,
  TRAINING: TRAINING_KEYS,
  INFERENCE: INFERENCE_KEYS,
  EVALUATION: EVALUATION_KEYS,
} as const;

/** NiftyNet application sections we do not implement. */
export const UNSUPPORTED_APPLICATION_SECTIONS: readonly string[] = ["REGISTRATION"];
