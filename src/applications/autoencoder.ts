/**
 * NiftyNet's autoencoder application (`net_autoencoder`, section `[AUTOENCODER]`), for the variational
 * autoencoder (`vae`) or any network returning the same outputs.
 *
 * - Roles: `image`, `feature` (latent codes to decode, `linear_interpolation` only).
 * - Training: windows from `window_sampling` (usually `resize`), loss `VariationalLowerBound` on NiftyNet's eight
 *   outputs.
 * - Inference (`inference_type`):
 *   - `encode`: the posterior means of each subject's windows (averaged per subject) → `inferred.csv` rows
 *     `subject_id,z0,z1,…`;
 *   - `encode-decode`: the reconstruction (data means) of each subject, written as NIfTI on its original grid
 *     (resized back with `resize` sampling, grid-aggregated otherwise);
 *   - `sample`: `batch_size` codes drawn from N(0, `noise_stddev`²) (the key must be set) decoded by the network's
 *     decoder (see `CodeDecodingNetwork` in `networks/vae.ts`) into images of `[INFERENCE] spatial_window_size`
 *     (else the image section's window size), written as `sample_<k>` NIfTI;
 *   - `linear_interpolation`: the codes of the `feature` section — the CSV `encode` writes (`subject_id,z0,z1,…`
 *     rows) named by its `csv_file`, or NIfTI files holding one code each (NiftyNet's way) — in order, each paired
 *     with a random other code y; `n_interpolations` codes `m·x + (1 − m)·y`, m = 0 … 1 evenly spaced, are
 *     decoded and written as `<k>_<x>_<y>` NIfTI (NiftyNet's names).
 *   Generated images take the affine of the first image (when an `image` section is given) and are listed in
 *   `inferred.csv`. The codes must not be that very `inferred.csv` (it would be overwritten): copy them first.
 *
 * @module
 */
import { resolve } from "node:path";
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
  fromBatchData,
  InferenceWriter,
  linearInterpolationSampler,
  randomVectorSampler,
  resizeAggregate,
  type SamplerSpec,
  type SubjectId,
  undoPreprocessing,
  type Window,
} from "../data/mod.ts";
import { isCodeDecodingNetwork, type VAEOutput, vaeOutputList } from "../../networks/vae.ts";
import {
  INFERENCE_INPUT_HONOURED_KEYS,
  inferenceSubjects,
  requireRoles,
  type Roles,
  rolesOf,
  sectionOptions,
  type SectionValues,
  sectionValues,
  subjectsFor,
  trainingSubjects,
  windowSizesOf,
} from "./_inputs.ts";
import {
  augmentationOptions,
  imageInferenceBatches,
  loadPreprocessing,
  roleTensors,
  type SubjectInfo,
  trainingBatches,
  WINDOW_INFERENCE_HONOURED_KEYS,
} from "./_windows.ts";
import { addWindowRows, VOLUME_OUTPUT_HONOURED_KEYS, VolumeOutputs } from "./_outputs.ts";
import { configuredLoss, configuredNetwork } from "./_plugins.ts";
import {
  inputShapeOf,
  trainingSampler,
  WINDOW_TRAINING_HONOURED_KEYS,
  withoutInference,
  withoutTraining,
} from "./_window_app.ts";
import {
  GENERATED_OUTPUT_HONOURED_KEYS,
  generatedBatches,
  GeneratedWriter,
  namedWindow,
  vectorTensor,
  vectorVolume,
} from "./_generated.ts";
import { randomInt, RandomStream } from "../data/_random.ts";
import { exists, parseCsvRows } from "../data/_files.ts";
import { deriveSeed } from "../data/batch_source.ts";
import { readImage } from "../io/mod.ts";
import { composeKeys, type HonouredKeys } from "../engine/honoured_keys.ts";

type AutoencoderValues = SectionValues<"AUTOENCODER">;

/**
 * Every key the autoencoder application acts on (with the driver's). Not yet: `output_interp_order` (outputs are
 * written without it) and the evaluation keys (no evaluation); the `vae` fixes its own activations and biases, so
 * `activation_function` and `bias_initializer` are not taken.
 */
export const AUTOENCODER_HONOURED_KEYS: HonouredKeys = composeKeys([
  WINDOW_TRAINING_HONOURED_KEYS,
  INFERENCE_INPUT_HONOURED_KEYS,
  { NETWORK: ["weight_initializer"] },
  WINDOW_INFERENCE_HONOURED_KEYS,
  VOLUME_OUTPUT_HONOURED_KEYS,
  GENERATED_OUTPUT_HONOURED_KEYS,
  { AUTOENCODER: ["image", "feature", "inference_type", "noise_stddev", "n_interpolations"] },
]);

/** The autoencoder application. */
export const autoencoderApplication: Application = {
  name: "autoencoder",
  section: "AUTOENCODER",
  aliases: ["net_autoencoder"],
  inputRoles: ["image", "feature"],
  honouredKeys: AUTOENCODER_HONOURED_KEYS,
  async setup(config, context): Promise<ApplicationRun> {
    const v = sectionValues(config, "AUTOENCODER", { application: "autoencoder" });
    const type = v.inference_type || "encode-decode";
    // Generating from codes reads no image (NiftyNet's `sample` has no reader at all).
    const decodes = context.action === "infer" && (type === "sample" || type === "linear_interpolation");
    const roles = rolesOf(config, ["image"]);
    if (!decodes) requireRoles(config, roles, { needed: ["image"] });
    const { network, name } = await configuredNetwork(config, { numClasses: 1, fallback: "vae" });
    const batchSize = config.network.batch_size;
    const sizes: Record<string, number[]> = decodes ? {} : windowSizesOf(config, roles);
    const forward = (batch: Batch, model: { store: VariableStore; training: boolean }): VAEOutput => {
      const out = applyNetwork(network as never, [batch.tensors.image], model) as unknown as VAEOutput;
      if (!out || !(out.dataMeans instanceof tf.Tensor) || !(out.posteriorMeans instanceof tf.Tensor)) {
        throw new Error(`network "${name}" is not an autoencoder: it must return the VAE outputs`);
      }
      return out;
    };
    const loss = context.action === "train" ? await configuredLoss(config, "autoencoder") : undefined;
    const base = {
      network: network as ApplicationRun["network"],
      networkName: name,
      inputShapes: sizes.image ? [inputShapeOf(sizes.image, { batch: batchSize, channels: roles.image.length })] : [],
      objectives: [{
        name: "loss",
        loss: (batch: Batch, model: { store: VariableStore; training: boolean }) =>
          loss!(vaeOutputList(forward(batch, model))),
      }],
    };
    if (context.action === "train") {
      const training = await trainingSubjects(config, roles);
      const preprocess = await loadPreprocessing(config, { roles, training, labelNormalisation: false });
      const sampler = trainingSampler(config, { roles, sizes });
      const augmentation = augmentationOptions(config, []);
      return {
        ...base,
        batches: trainingBatches(config, training, {
          roles,
          sampler,
          preprocess,
          augmentation,
          batchSize,
          toTensors: (windows) => roleTensors(windows, ["image"]),
        }),
        ...withoutInference("train"),
      };
    }
    if (context.action === "evaluate") {
      return { ...base, ...withoutTraining("evaluate"), ...withoutInference("evaluate") };
    }

    if (decodes) {
      return await decodingRun(config, { type, values: v, base, network, networkName: name, roles });
    }
    const subjects = await inferenceSubjects(config, roles, { required: ["image"] });
    const preprocess = await loadPreprocessing(config, { roles, training: [], labelNormalisation: false });
    const inferSizes = windowSizesOf(config, roles, { inference: true });
    const resize = config.network.window_sampling === "resize";
    const sampler: SamplerSpec = resize
      ? { kind: "resize", options: { spatialWindowSize: inferSizes } }
      : { kind: "grid", options: { spatialWindowSize: inferSizes, border: config.inference.border } };
    const dir = config.inference.save_seg_dir;
    const infos = new Map<SubjectId, SubjectInfo>();
    const codes = new ClassificationAggregator();
    const writerOptions = { saveSegDir: dir, outputPostfix: config.inference.output_postfix };
    const writer = new InferenceWriter(writerOptions);
    const grid = resize || sampler.kind !== "grid" ? undefined : new VolumeOutputs({
      grid: sampler.options,
      border: config.inference.border,
      fillConstant: config.inference.fill_constant,
      writer: writerOptions,
      finish: (volume) => volume,
    });
    return {
      ...base,
      inputShapes: [inputShapeOf(inferSizes.image, { batch: batchSize, channels: roles.image.length })],
      ...withoutTraining("infer"),
      inferenceBatches: imageInferenceBatches({
        config,
        subjects,
        roles,
        sampler,
        preprocess,
        batchSize,
        onSubject: (id, info) => {
          infos.set(id, info);
          grid?.subject(id, info);
        },
      }),
      infer: (batch, model) => {
        const out = forward(batch, model);
        const outputs: Record<string, tf.Tensor> = type === "encode"
          ? { codes: out.posteriorMeans }
          : { images: out.dataMeans };
        return outputs;
      },
      async consume(batch: Batch, host: HostOutputs) {
        const windows = batch.windows ?? [];
        if (type === "encode") {
          addWindowRows(codes, { windows, output: host.codes });
          return;
        }
        if (grid) return await grid.add(windows, host.images);
        const volumes = fromBatchData(host.images.data, host.images.shape);
        for (let i = 0; i < windows.length; i++) {
          if (windows[i].padding) continue;
          const info = infos.get(windows[i].subject)!;
          const resized = resizeAggregate(volumes[i], info.shape as [number, number, number], { order: 1 });
          const restored = undoPreprocessing(resized, info.record);
          await writer.write(windows[i].subject, restored, info.geometry.image);
        }
      },
      async finishInference() {
        if (type === "encode") await codes.write(dir);
        else await grid?.flush();
      },
    };
  },
};

/** A latent code and the name of what it came from. */
interface NamedCode {
  readonly id: string;
  readonly code: Float32Array;
}

/** One spatial window size for generated images: `[INFERENCE] spatial_window_size`, else the image section's. */
function generatedWindowSize(config: NiftyConfig, roles: Roles, type: string): number[] {
  if (config.inference.spatial_window_size.length) return [...config.inference.spatial_window_size];
  if (roles.image?.length) return windowSizesOf(config, { image: roles.image }).image;
  throw new Error(
    `"${config.source}": inference_type = ${type} needs the size of the images to generate: set [INFERENCE] ` +
      `spatial_window_size (the training window size)`,
  );
}

/** Inference that decodes codes (`sample`, `linear_interpolation`) with the network's decoder. */
async function decodingRun(
  config: NiftyConfig,
  args: {
    type: "sample" | "linear_interpolation";
    values: AutoencoderValues;
    base: Pick<ApplicationRun, "network" | "networkName" | "objectives">;
    network: unknown;
    networkName: string;
    roles: Roles;
  },
): Promise<ApplicationRun> {
  const { type, values: v, roles } = args;
  if (!isCodeDecodingNetwork(args.network)) {
    throw new Error(
      `"${config.source}": inference_type = ${type} decodes latent codes, but network "${args.networkName}" has no ` +
        `decoder(imageShape) method (the registered "vae" has one)`,
    );
  }
  const size = generatedWindowSize(config, roles, type);
  const imageShape = inputShapeOf(size, { batch: 1, channels: roles.image?.length ?? 1 }).slice(1);
  const decoder = args.network.decoder(imageShape);
  const latent = decoder.latentSize;
  const batchSize = config.network.batch_size;

  let codes: NamedCode[] = [];
  if (type === "sample") {
    if (v.noise_stddev === null || !(v.noise_stddev > 0)) {
      throw new Error(
        `"${config.source}": inference_type = sample needs [AUTOENCODER] noise_stddev > 0 (1 samples the prior ` +
          `N(0, I)), got ${v.noise_stddev}`,
      );
    }
  } else {
    const feature = rolesOf(config, ["feature"]).feature;
    if (!feature?.length) {
      throw new Error(
        `"${config.source}": inference_type = linear_interpolation needs [AUTOENCODER] feature naming the input ` +
          `section of the codes (e.g. a section whose csv_file is a copy of the inferred.csv of encode)`,
      );
    }
    codes = await readCodes(config, feature[0], latent);
  }

  const subjects = roles.image?.length
    ? await subjectsFor(config, roles, {
      required: ["image"],
      phases: ["training", "validation", "inference"],
      createSplit: false,
    }).catch(() => [])
    : [];
  const writer = new GeneratedWriter(config, subjects, roles.image?.[0]);
  const makeItems = (seed: number): Window[] => {
    const rng = new RandomStream(deriveSeed(seed, "autoencoder", type));
    if (type === "sample") {
      const draws = randomVectorSampler({
        vectorSize: latent,
        repetition: batchSize,
        stddev: v.noise_stddev!,
        seed: rng,
      });
      return [...draws].map((code, k) => ({ ...namedWindow(`sample_${k}`), data: { code: vectorVolume(code) } }));
    }
    return interpolations(codes, { steps: v.n_interpolations, rng }).map(({ id, code }) => ({
      ...namedWindow(id),
      data: { code: vectorVolume(code) },
    }));
  };
  return {
    ...args.base,
    inputShapes: [[batchSize, ...imageShape]],
    ...withoutTraining("infer"),
    inferenceBatches: ({ seed }) =>
      Promise.resolve(generatedBatches(() => makeItems(seed), {
        seed,
        batchSize,
        toTensors: (windows) => ({ code: vectorTensor(windows, { role: "code", size: latent }) }),
      })),
    infer: (batch, model) => ({ images: applyNetwork(decoder, [batch.tensors.code], model).dataMeans }),
    consume: (batch: Batch, host: HostOutputs) => writer.writeBatch(batch.windows ?? [], host.images),
  };
}

/**
 * NiftyNet's linear interpolation sampler: each code x, in order, with a random other code y; `steps` codes
 * `m·x + (1 − m)·y` for m evenly spaced from 0 to 1 (0 alone when `steps` is 1), named `<k>_<x>_<y>`.
 */
function interpolations(
  codes: readonly NamedCode[],
  { steps, rng }: { steps: number; rng: RandomStream },
): NamedCode[] {
  const out: NamedCode[] = [];
  codes.forEach((x, i) => {
    let j = randomInt(rng, codes.length - 1);
    if (j >= i) j++;
    const y = codes[j];
    const line = steps === 1 ? [y.code] : linearInterpolationSampler(y.code, x.code, { steps });
    let k = 0;
    for (const code of line) out.push({ id: `${k++}_${x.id}_${y.id}`, code });
  });
  return out;
}

/** Whether every row is `id,number,number,…` (a codes table) rather than a `subject,path` list. */
function isCodesTable(rows: readonly string[][]): boolean {
  return rows.length > 0 &&
    rows.every((r) => r.length >= 2 && r.slice(1).every((c) => c !== "" && isFinite(Number(c))));
}

/**
 * The codes of input section `name`: its `csv_file` when that is a codes table (`id,z0,z1,…`, what `encode`
 * writes), else one NIfTI file per subject (from `csv_file` or `path_to_search`) flattened to a code.
 */
async function readCodes(config: NiftyConfig, name: string, latent: number): Promise<NamedCode[]> {
  const section = config.inputs[name];
  const codes: NamedCode[] = [];
  const csv = section.csv_file;
  if (csv && resolve(csv) === resolve(config.inference.save_seg_dir, "inferred.csv")) {
    throw new Error(
      `input section [${name}]: csv_file "${csv}" is the inferred.csv this inference rewrites; copy the codes ` +
        `to another file or set another save_seg_dir`,
    );
  }
  const rows = csv && await exists(csv) ? parseCsvRows(await Deno.readTextFile(csv)) : [];
  if (isCodesTable(rows)) {
    for (const [id, ...cells] of rows) codes.push({ id, code: Float32Array.from(cells, Number) });
  } else {
    for (const [id, path] of await findSectionFiles(name, sectionOptions(section))) {
      const image = await readImage(path);
      codes.push({ id, code: Float32Array.from(image.data as ArrayLike<number>) });
    }
  }
  const where = csv && isCodesTable(rows) ? `"${csv}"` : `input section [${name}]`;
  const ids = new Set<string>();
  for (const { id, code } of codes) {
    if (code.length !== latent) {
      throw new Error(
        `${where}: the code of "${id}" has ${code.length} values, the network's latent size is ${latent}`,
      );
    }
    if (!code.every(Number.isFinite)) throw new Error(`${where}: the code of "${id}" has non-finite values`);
    if (ids.has(id)) throw new Error(`${where}: "${id}" is listed twice`);
    ids.add(id);
  }
  if (codes.length < 2) {
    throw new Error(`${where}: linear_interpolation needs at least 2 codes to pair, found ${codes.length}`);
  }
  return codes;
}

registerApplication(autoencoderApplication);
