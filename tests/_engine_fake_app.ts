/**
 * A tiny application for the driver tests: synthetic in-memory 2D data (4 subjects, 10×10, two classes), random
 * 8×8 training windows per epoch (seeded by epoch), whole-image inference, ToyNet with cross-entropy.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { applyNetwork } from "../src/dsl/mod.ts";
import { RandomStream } from "../src/dsl/random.ts";
import { ToyNet } from "../networks/toynet.ts";
import type { Application, ApplicationRun, Batch, HostOutputs } from "../src/engine/application.ts";
import { deriveSeed, epochSource } from "../src/data/batch_source.ts";
import type { NiftyConfig } from "../src/engine/config/mod.ts";

const SIZE = 10, WINDOW = 8;

interface Item {
  subject: number;
  image: Float32Array;
  label: Float32Array;
}

function subjectData(index: number): { image: Float32Array; label: Float32Array } {
  const rng = new RandomStream(1000 + index);
  const image = new Float32Array(SIZE * SIZE), label = new Float32Array(SIZE * SIZE);
  const cx = 3 + rng.uniform() * 4, cy = 3 + rng.uniform() * 4, r = 2 + rng.uniform() * 2;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r;
      label[y * SIZE + x] = inside ? 1 : 0;
      image[y * SIZE + x] = (inside ? 1 : 0) + 0.3 * rng.normal();
    }
  }
  return { image, label };
}

function crop(data: Float32Array, x0: number, y0: number): Float32Array {
  const out = new Float32Array(WINDOW * WINDOW);
  for (let y = 0; y < WINDOW; y++) {
    out.set(data.subarray((y0 + y) * SIZE + x0, (y0 + y) * SIZE + x0 + WINDOW), y * WINDOW);
  }
  return out;
}

function toBatch(items: readonly Item[], size: number): Batch {
  const n = items.length;
  const image = new Float32Array(n * size * size), label = new Float32Array(n * size * size);
  items.forEach((it, i) => {
    image.set(it.image, i * size * size);
    label.set(it.label, i * size * size);
  });
  return {
    tensors: {
      image: tf.tensor4d(image, [n, size, size, 1]),
      label: tf.tidy(() => tf.oneHot(tf.tensor1d(label, "int32"), 2).reshape([n, size, size, 2])),
    },
  };
}

/** The fake application; `outputs` collects inference results (argmax per subject). */
export class FakeApplication implements Application {
  readonly name = "fake_segmentation";
  readonly section = "SEGMENTATION";
  readonly inputRoles = ["image", "label"];
  readonly outputs = new Map<number, number[]>();

  setup(config: NiftyConfig): Promise<ApplicationRun> {
    const results = this.outputs;
    const subjects = [0, 1, 2, 3].map(subjectData);
    const network = new ToyNet({ numClasses: 2 });
    const perVolume = config.training.sample_per_volume;
    const batchSize = config.network.batch_size;
    const run: ApplicationRun = {
      network,
      networkName: "toynet",
      inputShapes: [[1, WINDOW, WINDOW, 1]],
      objectives: [{
        name: "loss",
        loss: (batch, model) =>
          tf.losses.softmaxCrossEntropy(
            batch.tensors.label,
            applyNetwork(network, [batch.tensors.image], model),
          ) as tf.Scalar,
      }],
      batches(phase, { seed, state }) {
        const ids = phase === "training" ? [0, 1, 2] : [3];
        return Promise.resolve(epochSource<Item>({
          seed,
          state,
          batchSize,
          toBatch: (items) => toBatch(items, WINDOW),
          *makeEpoch(epoch, s) {
            const rng = new RandomStream(deriveSeed(s, epoch));
            const order = [...ids];
            for (let i = order.length - 1; i > 0; i--) {
              const j = Math.floor(rng.uniform() * (i + 1));
              [order[i], order[j]] = [order[j], order[i]];
            }
            for (const subject of order) {
              for (let k = 0; k < perVolume; k++) {
                const x0 = Math.floor(rng.uniform() * (SIZE - WINDOW + 1));
                const y0 = Math.floor(rng.uniform() * (SIZE - WINDOW + 1));
                const { image, label } = subjects[subject];
                yield { subject, image: crop(image, x0, y0), label: crop(label, x0, y0) };
              }
            }
          },
        }));
      },
      inferenceBatches({ seed }) {
        return Promise.resolve(epochSource<Item>({
          seed,
          batchSize: 1,
          epochs: 1,
          toBatch: (items) => ({ ...toBatch(items, SIZE), windows: [] }),
          makeEpoch: () => subjects.map((s, subject) => ({ subject, ...s })),
        }));
      },
      infer: (batch, model) => ({ logits: applyNetwork(network, [batch.tensors.image], model) }),
      consume(_batch: Batch, outputs: HostOutputs) {
        const { data, shape } = outputs.logits;
        const classes: number[] = [];
        for (let i = 0; i < data.length; i += shape.at(-1)!) classes.push(data[i + 1] > data[i] ? 1 : 0);
        results.set(results.size, classes);
        return Promise.resolve();
      },
    };
    return Promise.resolve(run);
  }
}

/** The config text the driver tests start from (model_dir given by the caller). */
export function fakeConfigText(modelDir: string, training: Readonly<Record<string, string | number>> = {}): string {
  const t = {
    optimiser: "adam",
    lr: 0.05,
    max_iter: 6,
    save_every_n: 2,
    max_checkpoints: 100,
    tensorboard_every_n: 2,
    sample_per_volume: 2,
    ...training,
  };
  return [
    "[images]",
    "spatial_window_size = (8, 8, 1)",
    "[SYSTEM]",
    `model_dir = ${modelDir}`,
    "random_seed = 11",
    "[NETWORK]",
    "name = toynet",
    "batch_size = 2",
    "[TRAINING]",
    ...Object.entries(t).map(([k, v]) => `${k} = ${v}`),
    "[SEGMENTATION]",
    "image = images",
    "num_classes = 2",
    "",
  ].join("\n");
}

/** The fake application as a plugin module's export, for driving it through `cli.ts train -a tests/_engine_fake_app.ts`. */
export const application: FakeApplication = new FakeApplication();
