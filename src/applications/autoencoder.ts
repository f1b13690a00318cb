/**
 * NiftyNet's autoencoder application (`net_autoencoder`, section `[AUTOENCODER]`), for the variational
 * autoencoder (`vae`) or any network returning the same outputs.
 *
 * - Roles: `image`, `feature` (codes to decode, reserved).
 * - Training: windows from `window_sampling` (usually `resize`), loss `VariationalLowerBound` on NiftyNet's eight
 *   outputs.
 * - Inference (`inference_type`):
 *   - `encode`: the posterior means of each subject's windows (averaged per subject) → `inferred.csv` rows
 *     `subject_id,z0,z1,…`;
 *   - `encode-decode`: the reconstruction (data means) of each subject, written as NIfTI on its original grid
 *     (resized back with `resize` sampling, grid-aggregated otherwise);
 *   - `sample` and `linear_interpolation`: need a network with `decode(scope, codes, imageShape)`; the
 *     registered `vae` has none yet, so these fail with a clear message.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { applyNetwork, type VariableStore } from "../dsl/mod.ts";
import type { Application, ApplicationRun, Batch, HostOutputs } from "./base.ts";
import type { NiftyConfig } from "../engine/config/mod.ts";
import {
  ClassificationAggregator,
  fromBatchData,
  InferenceWriter,
  resizeAggregate,
  type SamplerSpec,
  type SubjectId,
  undoPreprocessing,
} from "../data/mod.ts";
import { type VAEOutput, vaeOutputList } from "../../networks/vae.ts";
import { inferenceSubjects, requireRoles, rolesOf, subjectsFor, windowSizesOf } from "./_inputs.ts";
import { augmentationOptions, loadPreprocessing, roleTensors, type SubjectInfo, windowBatches } from "./_windows.ts";
import { VolumeOutputs } from "./_outputs.ts";
import { configuredLoss, configuredNetwork } from "./_plugins.ts";
import { inputShapeOf, trainingSampler } from "./_window_app.ts";

type AutoencoderValues = Extract<NonNullable<NiftyConfig["application"]>, { section: "AUTOENCODER" }>["values"];

function valuesOf(config: NiftyConfig): AutoencoderValues {
  if (config.application?.section !== "AUTOENCODER") {
    throw new Error(`"${config.source}": the autoencoder application needs an [AUTOENCODER] section`);
  }
  return config.application.values;
}

/** The autoencoder application. */
export const autoencoderApplication: Application = {
  name: "autoencoder",
  section: "AUTOENCODER",
  inputRoles: ["image", "feature"],
  async setup(config, context): Promise<ApplicationRun> {
    const v = valuesOf(config);
    const roles = rolesOf(config, ["image"]);
    requireRoles(config, roles, { needed: ["image"] });
    const { network, name } = await configuredNetwork(config, { numClasses: 1, fallback: "vae" });
    const batchSize = config.network.batch_size;
    const sizes = windowSizesOf(config, roles);
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
      inputShapes: [inputShapeOf(sizes.image, { batch: batchSize, channels: roles.image.length })],
      objectives: [{
        name: "loss",
        loss: (batch: Batch, model: { store: VariableStore; training: boolean }) =>
          loss!(vaeOutputList(forward(batch, model))),
      }],
    };
    const none = () => Promise.reject(new Error(`not available for ${context.action}`));

    if (context.action === "train") {
      const training = await subjectsFor(config, roles, {
        required: ["image"],
        phases: ["training"],
        createSplit: true,
      });
      if (training.length === 0) throw new Error(`"${config.source}": no training subjects`);
      const preprocess = await loadPreprocessing(config, { roles, training, labelNormalisation: false });
      const sampler = trainingSampler(config, { roles, sizes });
      const augmentation = augmentationOptions(config, []);
      return {
        ...base,
        async batches(phase, { seed, state }) {
          const subjects = phase === "training"
            ? training
            : await subjectsFor(config, roles, { required: ["image"], phases: ["validation"], createSplit: true });
          return windowBatches({
            config,
            subjects,
            roles,
            sampler,
            preprocess,
            augmentation: phase === "training" ? augmentation : undefined,
            batchSize,
            seed,
            state,
            endless: true,
            toTensors: (windows) => roleTensors(windows, ["image"]),
          });
        },
        inferenceBatches: none,
        infer: () => ({}),
        consume: () => Promise.resolve(),
      };
    }
    if (context.action === "evaluate") {
      return { ...base, batches: none, inferenceBatches: none, infer: () => ({}), consume: () => Promise.resolve() };
    }

    const type = v.inference_type || "encode-decode";
    if (type === "sample" || type === "linear_interpolation") {
      throw new Error(
        `"${config.source}": inference_type = ${type} needs a network that can decode codes (a decode() method); ` +
          `network "${name}" has none`,
      );
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
      batches: none,
      inferenceBatches: ({ seed }) =>
        Promise.resolve(windowBatches({
          config,
          subjects,
          roles,
          sampler,
          preprocess,
          batchSize,
          seed,
          endless: false,
          toTensors: (windows) => roleTensors(windows, ["image"]),
          onSubject: (id, info) => {
            infos.set(id, info);
            grid?.subject(id, info);
          },
        })),
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
          const { data, shape } = host.codes;
          windows.forEach((w, i) => {
            if (!w.padding) codes.add(w.subject, data.subarray(i * shape[1], (i + 1) * shape[1]));
          });
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
