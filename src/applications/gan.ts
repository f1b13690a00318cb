/**
 * NiftyNet's GAN application (`net_gan`, section `[GAN]`).
 *
 * - Roles: `image` (real images), `conditioning` (optional, passed to the network as its third input).
 * - Training: real windows from `window_sampling` (usually `resize`), each with a normal noise vector of
 *   `noise_size` drawn from the window's seeded stream (so resuming repeats it). Two objectives per iteration,
 *   in order: `d_loss` updates only `…/discriminator/…` variables, `g_loss` only `…/generator/…` ones; the loss
 *   is the GAN `loss_type` (default CrossEntropy) on the discriminator's logits of real and generated images.
 * - Inference: `n_interpolations` samples from random noise (`sample_<k>`) and `n_interpolations` images along
 *   the line between two random noise vectors (`interpolation_<k>`), written as NIfTI in `save_seg_dir`.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { applyNetwork, type VariableStore } from "../dsl/mod.ts";
import type { Application, ApplicationRun, Batch, HostOutputs } from "./base.ts";
import type { NiftyConfig } from "../engine/config/mod.ts";
import {
  type ChannelVolume,
  fromBatchData,
  linearInterpolationSampler,
  type LoadedSubject,
  randomVectorSampler,
  type Window,
} from "../data/mod.ts";
import { RandomStream } from "../data/_random.ts";
import { deriveSeed, epochSource } from "../engine/batch_source.ts";
import { INPUT_HONOURED_KEYS, requireRoles, rolesOf, subjectsFor, windowSizesOf } from "./_inputs.ts";
import {
  AUGMENTATION_HONOURED_KEYS,
  augmentationOptions,
  loadPreprocessing,
  PREPROCESSING_HONOURED_KEYS,
  roleTensors,
  WINDOW_BATCH_HONOURED_KEYS,
  windowBatches,
} from "./_windows.ts";
import { configuredLoss, configuredNetwork, LOSS_HONOURED_KEYS, NETWORK_NAME_HONOURED_KEYS } from "./_plugins.ts";
import { inputShapeOf, SAMPLER_HONOURED_KEYS, trainingSampler } from "./_window_app.ts";
import { GENERATED_OUTPUT_HONOURED_KEYS, GeneratedWriter, namedWindow } from "./_generated.ts";
import { composeKeys, type HonouredKeys } from "./honoured_keys.ts";

type GanValues = Extract<NonNullable<NiftyConfig["application"]>, { section: "GAN" }>["values"];

function valuesOf(config: NiftyConfig): GanValues {
  if (config.application?.section !== "GAN") {
    throw new Error(`"${config.source}": the GAN application needs a [GAN] section`);
  }
  return config.application.values;
}

/** What a GAN network returns (simple_gan, simulator_gan and plugins with the same outputs). */
interface GanOutput {
  readonly image: tf.Tensor;
  readonly realLogits: tf.Tensor;
  readonly fakeLogits: tf.Tensor;
}

function noiseVolume(noise: Float32Array): ChannelVolume {
  return { data: noise, shape: [noise.length, 1, 1], channels: 1 };
}

function noiseTensor(windows: readonly Window[], size: number): tf.Tensor2D {
  const data = new Float32Array(windows.length * size);
  windows.forEach((w, i) => data.set(w.data.noise.data, i * size));
  return tf.tensor2d(data, [windows.length, size]);
}

/**
 * Every key the GAN application acts on (with the driver's). Its inference draws noise (no input subjects, no
 * windows), so `dataset_to_infer`, `[INFERENCE] spatial_window_size`, `border`, `fill_constant`,
 * `output_interp_order` and `smaller_final_batch_mode` do not apply; the registered GANs build their own layers,
 * so `activation_function` and the initializers are not taken either.
 */
export const GAN_HONOURED_KEYS: HonouredKeys = composeKeys([
  INPUT_HONOURED_KEYS,
  NETWORK_NAME_HONOURED_KEYS,
  LOSS_HONOURED_KEYS,
  PREPROCESSING_HONOURED_KEYS,
  AUGMENTATION_HONOURED_KEYS,
  SAMPLER_HONOURED_KEYS,
  WINDOW_BATCH_HONOURED_KEYS,
  GENERATED_OUTPUT_HONOURED_KEYS,
  { GAN: ["image", "conditioning", "noise_size", "n_interpolations"] },
]);

/** The GAN application. */
export const ganApplication: Application = {
  name: "gan",
  section: "GAN",
  inputRoles: ["image", "conditioning"],
  honouredKeys: GAN_HONOURED_KEYS,
  async setup(config, context): Promise<ApplicationRun> {
    const v = valuesOf(config);
    if (v.noise_size < 1) throw new Error(`"${config.source}": [GAN] noise_size must be set (got ${v.noise_size})`);
    const roles = rolesOf(config, ["image", "conditioning"]);
    requireRoles(config, roles, { needed: ["image"] });
    const { network, name } = await configuredNetwork(config, { numClasses: 1, fallback: "simple_gan" });
    const batchSize = config.network.batch_size;
    const sizes = windowSizesOf(config, roles);
    const imageShape = inputShapeOf(sizes.image, { batch: batchSize, channels: roles.image.length });
    const run = (batch: Batch, model: { store: VariableStore; training: boolean }): GanOutput => {
      const inputs = [batch.tensors.noise, batch.tensors.image];
      if (batch.tensors.conditioning) inputs.push(batch.tensors.conditioning);
      const out = applyNetwork(network as never, inputs, model) as unknown as GanOutput;
      if (!out || !(out.image instanceof tf.Tensor) || !(out.fakeLogits instanceof tf.Tensor)) {
        throw new Error(`network "${name}" is not a GAN: it must return { image, realLogits, fakeLogits }`);
      }
      return out;
    };
    const loss = context.action === "train" ? await configuredLoss(config, "gan") : undefined;
    const base = {
      network: network as ApplicationRun["network"],
      networkName: name,
      inputShapes: [[batchSize, v.noise_size], imageShape],
      objectives: [
        {
          name: "d_loss",
          variables: /(^|\/)discriminator\//,
          loss: (batch: Batch, model: { store: VariableStore; training: boolean }) => {
            const o = run(batch, model);
            return loss!(o.realLogits, o.fakeLogits).discriminator;
          },
        },
        {
          name: "g_loss",
          variables: /(^|\/)generator\//,
          loss: (batch: Batch, model: { store: VariableStore; training: boolean }) => {
            const o = run(batch, model);
            return loss!(o.realLogits, o.fakeLogits).generator;
          },
        },
      ],
    };
    const none = () => Promise.reject(new Error(`not available for ${context.action}`));

    if (context.action === "train") {
      const required = Object.keys(roles);
      const training = await subjectsFor(config, roles, { required, phases: ["training"], createSplit: true });
      if (training.length === 0) throw new Error(`"${config.source}": no training subjects`);
      const preprocess = await loadPreprocessing(config, { roles, training, labelNormalisation: false });
      const sampler = trainingSampler(config, { roles, sizes });
      const augmentation = augmentationOptions(config, []);
      const withNoise = function* (_s: LoadedSubject, windows: Iterable<Window>, rng: RandomStream) {
        for (const w of windows) {
          const [noise] = randomVectorSampler({ vectorSize: v.noise_size, repetition: 1, seed: rng });
          yield { ...w, data: { ...w.data, noise: noiseVolume(noise) } };
        }
      };
      return {
        ...base,
        async batches(phase, { seed, state }) {
          const subjects = phase === "training"
            ? training
            : await subjectsFor(config, roles, { required, phases: ["validation"], createSplit: true });
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
            mapWindows: withNoise,
            toTensors: (windows) => ({
              ...roleTensors(windows, Object.keys(roles)),
              noise: noiseTensor(windows, v.noise_size),
            }),
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

    // Inference: random samples, then an interpolation between two random codes.
    const subjects = await subjectsFor(config, roles, {
      required: ["image"],
      phases: ["training", "validation", "inference"],
      createSplit: false,
    }).catch(() => []);
    const writer = new GeneratedWriter(config, subjects, roles.image[0]);
    const n = v.n_interpolations;
    return {
      ...base,
      batches: none,
      inferenceBatches: ({ seed }) => {
        const rng = new RandomStream(deriveSeed(seed, "gan"));
        const items: Window[] = [];
        let k = 0;
        for (const noise of randomVectorSampler({ vectorSize: v.noise_size, repetition: n, seed: rng })) {
          items.push({ ...namedWindow(`sample_${k++}`), data: { noise: noiseVolume(noise) } });
        }
        const [a, b] = [...randomVectorSampler({ vectorSize: v.noise_size, repetition: 2, seed: rng })];
        k = 0;
        for (const noise of linearInterpolationSampler(a, b, { steps: Math.max(2, n) })) {
          items.push({ ...namedWindow(`interpolation_${k++}`), data: { noise: noiseVolume(noise) } });
        }
        return Promise.resolve(epochSource<Window>({
          seed,
          batchSize,
          epochs: 1,
          makeEpoch: () => items,
          toBatch: (windows) => {
            const padded = [...windows];
            while (padded.length < batchSize) padded.push({ ...padded[0], padding: true });
            return {
              windows: padded,
              tensors: { noise: noiseTensor(padded, v.noise_size), image: tf.zeros(imageShape) },
            };
          },
        }));
      },
      infer: (batch, model) => ({ image: run(batch, model).image }),
      async consume(batch: Batch, host: HostOutputs) {
        const volumes = fromBatchData(host.image.data, host.image.shape);
        const windows = batch.windows ?? [];
        for (let i = 0; i < windows.length; i++) {
          if (!windows[i].padding) await writer.write(windows[i].subject, volumes[i]);
        }
      },
    };
  },
};
