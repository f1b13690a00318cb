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
import {
  type Application,
  type ApplicationRun,
  type Batch,
  type HostOutputs,
  registerApplication,
} from "../engine/application.ts";
import { linearInterpolationSampler, randomVectorSampler, type Window } from "../data/mod.ts";
import { RandomStream } from "../data/_random.ts";
import { deriveSeed } from "../data/batch_source.ts";
import { requireRoles, rolesOf, sectionValues, subjectsFor, trainingSubjects, windowSizesOf } from "./_inputs.ts";
import { augmentationOptions, loadPreprocessing, roleTensors, trainingBatches } from "./_windows.ts";
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
import { composeKeys, type HonouredKeys } from "../engine/honoured_keys.ts";

/** What a GAN network returns (simple_gan, simulator_gan and plugins with the same outputs). */
interface GanOutput {
  readonly image: tf.Tensor;
  readonly realLogits: tf.Tensor;
  readonly fakeLogits: tf.Tensor;
}

/**
 * Every key the GAN application acts on (with the driver's). Its inference draws noise (no input subjects, no
 * windows), so `dataset_to_infer`, `[INFERENCE] spatial_window_size`, `border`, `fill_constant`,
 * `output_interp_order` and `smaller_final_batch_mode` do not apply; the registered GANs build their own layers,
 * so `activation_function` and the initializers are not taken either.
 */
export const GAN_HONOURED_KEYS: HonouredKeys = composeKeys([
  WINDOW_TRAINING_HONOURED_KEYS,
  GENERATED_OUTPUT_HONOURED_KEYS,
  { GAN: ["image", "conditioning", "noise_size", "n_interpolations"] },
]);

/** The GAN application. */
export const ganApplication: Application = {
  name: "gan",
  section: "GAN",
  aliases: ["net_gan"],
  inputRoles: ["image", "conditioning"],
  honouredKeys: GAN_HONOURED_KEYS,
  async setup(config, context): Promise<ApplicationRun> {
    const v = sectionValues(config, "GAN", { application: "GAN" });
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
    const noise = { role: "noise", size: v.noise_size };

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
          additions: [{ kind: "noise", ...noise }],
          toTensors: (windows) => ({
            ...roleTensors(windows, Object.keys(roles)),
            noise: vectorTensor(windows, noise),
          }),
        }),
        ...withoutInference("train"),
      };
    }
    if (context.action === "evaluate") {
      return { ...base, ...withoutTraining("evaluate"), ...withoutInference("evaluate") };
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
      ...withoutTraining("infer"),
      inferenceBatches: ({ seed }) => {
        const rng = new RandomStream(deriveSeed(seed, "gan"));
        const items: Window[] = [];
        let k = 0;
        for (const vector of randomVectorSampler({ vectorSize: v.noise_size, repetition: n, seed: rng })) {
          items.push({ ...namedWindow(`sample_${k++}`), data: { noise: vectorVolume(vector) } });
        }
        const [a, b] = [...randomVectorSampler({ vectorSize: v.noise_size, repetition: 2, seed: rng })];
        k = 0;
        for (const vector of linearInterpolationSampler(a, b, { steps: Math.max(2, n) })) {
          items.push({ ...namedWindow(`interpolation_${k++}`), data: { noise: vectorVolume(vector) } });
        }
        return Promise.resolve(generatedBatches(() => items, {
          seed,
          batchSize,
          toTensors: (windows) => ({ noise: vectorTensor(windows, noise), image: tf.zeros(imageShape) }),
        }));
      },
      infer: (batch, model) => ({ image: run(batch, model).image }),
      consume: (batch: Batch, host: HostOutputs) => writer.writeBatch(batch.windows ?? [], host.image),
    };
  },
};

registerApplication(ganApplication);
