/**
 * `deno task demo`: the bundled default run. Until the full applications land it shows the DSL end to end on
 * generated data: synthetic 3D phantoms (two nested structures, partial-volume edges, a smooth bias field,
 * noise), a ToyNet trained for a few dozen Adam steps with a progress line, Dice on a held-out phantom, a
 * safetensors checkpoint (with Adam slots) reloaded into a fresh model with identical predictions, and the graph
 * written as JSON, HTML and a TensorBoard event file.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { applyNetwork, loadCheckpoint, recordGraph, saveCheckpoint, VariableStore } from "../dsl/mod.ts";
import { optimizerSlots, trainStep } from "../engine/train_step.ts";
import { Progress } from "../engine/progress.ts";
import { RandomStream } from "../dsl/random.ts";
import { writeGraphFiles } from "../viz/mod.ts";
import { ToyNet } from "../../networks/mod.ts";

/** A phantom volume [x, y, z] with its labels (0 background, 1 outer structure, 2 inner core). */
export interface Phantom {
  readonly image: Float32Array;
  readonly labels: Int32Array;
  readonly size: number;
}

/** Generates one phantom; deterministic in `seed`. */
export function makePhantom(size: number, seed: number): Phantom {
  const rng = new RandomStream(seed);
  const c = [0, 1, 2].map(() => size / 2 + (rng.uniform() - 0.5) * size * 0.2);
  const outer = size * (0.28 + rng.uniform() * 0.08), inner = outer * (0.45 + rng.uniform() * 0.15);
  const bias = [0, 1, 2].map(() => (rng.uniform() - 0.5) * 0.4 / size);
  const image = new Float32Array(size ** 3), labels = new Int32Array(size ** 3);
  for (let x = 0, i = 0; x < size; x++) {
    for (let y = 0; y < size; y++) {
      for (let z = 0; z < size; z++, i++) {
        // Anisotropic shape: the structures are squashed along z.
        const r = Math.hypot(x - c[0], y - c[1], (z - c[2]) * 1.3);
        labels[i] = r < inner ? 2 : r < outer ? 1 : 0;
        // Partial volume: a smooth 1-voxel transition at each boundary.
        const soft = (edge: number) => 1 / (1 + Math.exp((r - edge) * 3));
        const clean = 0.1 + 0.5 * soft(outer) + 0.4 * soft(inner);
        const field = 1 + bias[0] * (x - size / 2) + bias[1] * (y - size / 2) + bias[2] * (z - size / 2);
        image[i] = clean * field + 0.05 * rng.normal();
      }
    }
  }
  return { image, labels, size };
}

function diceScores(prediction: Int32Array, reference: Int32Array, labels: number[]): number[] {
  return labels.map((l) => {
    let both = 0, p = 0, r = 0;
    for (let i = 0; i < reference.length; i++) {
      const a = prediction[i] === l, b = reference[i] === l;
      if (a) p++;
      if (b) r++;
      if (a && b) both++;
    }
    return p + r === 0 ? 1 : (2 * both) / (p + r);
  });
}

/** Options of {@link demoCommand}. */
export interface DemoOptions {
  readonly out: string;
  readonly iterations?: number;
  readonly size?: number;
  readonly log?: (line: string) => void;
}

/** Runs the demo and returns the held-out Dice per label. */
export async function demoCommand(
  { out, iterations = 60, size = 20, log = console.log }: DemoOptions,
): Promise<{ dice: number[] }> {
  const train = [0, 1, 2].map((s) => makePhantom(size, 100 + s));
  const heldOut = makePhantom(size, 999);
  const asInput = (p: Phantom) => tf.tensor5d(p.image, [1, size, size, size, 1]);
  log(`data: ${train.length} training phantoms and 1 held-out, ${size}³ voxels, 3 labels`);

  const network = new ToyNet({ numClasses: 3 });
  const store = new VariableStore({ seed: 7 });
  const optimizer = tf.train.adam(0.05);
  const inputs = train.map(asInput);
  const targets = train.map((p) =>
    tf.tidy(() => tf.oneHot(tf.tensor1d(p.labels, "int32"), 3).reshape([1, size, size, size, 3]))
  );
  const progress = new Progress(iterations);
  for (let it = 1; it <= iterations; it++) {
    const k = (it - 1) % train.length;
    const loss = trainStep(network, inputs[k], {
      store,
      optimizer,
      loss: (logits) => tf.losses.softmaxCrossEntropy(targets[k], logits) as tf.Scalar,
    });
    if (it % 10 === 0 || it === iterations) log(progress.line(it, { loss }));
  }
  tf.dispose([...inputs, ...targets]);

  const predict = (s: VariableStore) => {
    const labels = tf.tidy(() => applyNetwork(network, [asInput(heldOut)], { store: s }).argMax(-1).flatten());
    const values = labels.dataSync() as Int32Array;
    labels.dispose();
    return values;
  };
  const predicted = predict(store);
  const dice = diceScores(predicted, heldOut.labels, [1, 2]);
  log(`held-out Dice: label 1 ${dice[0].toFixed(3)}, label 2 ${dice[1].toFixed(3)}`);

  await Deno.mkdir(out, { recursive: true });
  const checkpoint = `${out}/model.safetensors`;
  await saveCheckpoint(checkpoint, store, {
    iteration: iterations,
    network: "toynet",
    config: { demo: { iterations, size, lr: 0.05 } },
    slots: await optimizerSlots(optimizer, store),
  });
  const reloaded = new VariableStore();
  tf.tidy(() => void applyNetwork(network, [tf.zeros([1, size, size, size, 1])], { store: reloaded }));
  await loadCheckpoint(checkpoint, reloaded);
  const same = predict(reloaded).every((v, i) => v === predicted[i]);
  log(
    `checkpoint ${checkpoint}: ${store.records().length} variables + Adam slots; reloaded predictions identical: ${same}`,
  );
  if (!same) throw new Error("demo: predictions after reloading the checkpoint differ");

  const files = await writeGraphFiles(recordGraph(network, [[1, size, size, size, 1]], { store }), out);
  log(`graph: ${files.html} (open in a browser), ${files.json}, TensorBoard: tensorboard --logdir ${out}`);
  store.dispose();
  reloaded.dispose();
  optimizer.dispose();
  return { dice };
}
