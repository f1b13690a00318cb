/**
 * Fine-tuning on a few labels (issue 13), the portable parts the web app's worker runs: windows around labelled
 * voxels (`labelledWindow`), the training loop (`fineTune`: loss goes down, frozen variables stay bit for bit,
 * the tensor count stays flat), the training data of a zoo entry (`zooTrainingData`: conformed like the
 * segmentation, labels checked against the scan's grid and the entry's classes), and the tuned model's checkpoint
 * bytes (`zooCheckpointBytes`), read back by the checkpoint reader the CLI uses and restored by name into the
 * entry's network (`zooModelFromTensors`).
 */
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { applyNetwork, readCheckpoint, restoreRuleFromFile, VariableStore } from "../src/dsl/mod.ts";
import { fineTune, labelledWindow } from "../src/engine/finetune.ts";
import type { Image } from "../src/io/mod.ts";
import { MeshNet } from "../networks/mod.ts";
import { BACKGROUND_LABEL, type LabelledVolume, zooTrainingData } from "../zoo/finetune_data.ts";
import { zooCheckpointBytes } from "../zoo/export.ts";
import { zooModelFromTensors, zooNetwork } from "../zoo/model.ts";
import { getZooEntry } from "../zoo/registry.ts";

/** A phantom: a bright sphere (class 2) with a grey shell (class 1); every 5th voxel labelled. */
function phantom(size: number): LabelledVolume {
  const n = size ** 3;
  const volume = new Float32Array(n), voxels: number[] = [], classes: number[] = [];
  for (let i = 0; i < n; i++) {
    const [x, y, z] = [Math.floor(i / size ** 2), Math.floor(i / size) % size, i % size];
    const r = Math.hypot(x - size / 2, y - size / 2, z - size / 2);
    const c = r < size / 6 ? 2 : r < size / 3 ? 1 : 0;
    volume[i] = [0.1, 0.5, 0.9][c] + 0.05 * Math.sin(i * 12.9898);
    if (i % 5 === 0) {
      voxels.push(i);
      classes.push(c);
    }
  }
  return { volume, shape: [size, size, size], voxels: Int32Array.from(voxels), classes: Uint8Array.from(classes) };
}

Deno.test("labelledWindow cuts the window around a voxel, clipped to the volume, with its labelled voxels", () => {
  const shape: [number, number, number] = [4, 5, 6];
  const volume = Float32Array.from({ length: 120 }, (_, i) => i);
  const data: LabelledVolume = { volume, shape, voxels: Int32Array.from([0, 119]), classes: Uint8Array.from([2, 1]) };
  const w = labelledWindow(data, 119, 3); // the last voxel: the window is pushed back inside
  assertEquals(w.shape, [3, 3, 3]);
  assertEquals(w.input[0], ((1 * 5) + 2) * 6 + 3); // starts at (1, 2, 3)
  assertEquals(w.input[26], 119);
  assertEquals([w.classes[26], w.weights[26]], [1, 1]);
  assertEquals(w.weights.reduce((a, b) => a + b), 1);
  const all = labelledWindow(data, 0, 10); // larger than the volume: the whole volume
  assertEquals(all.shape, shape);
  assertEquals([...all.input], [...volume]);
  assertEquals([all.classes[0], all.classes[119], all.weights.reduce((a, b) => a + b)], [2, 1, 2]);
});

Deno.test("fineTune lowers the loss, leaves frozen variables bit for bit and keeps the tensor count flat", async () => {
  const data = phantom(20);
  const network = new MeshNet({ numClasses: 3, channels: 4, dilations: [1, 2] });
  const store = new VariableStore({ seed: 2 });
  tf.tidy(() => void applyNetwork(network, [tf.zeros([1, 4, 4, 4, 1])], { store }));
  const frozen = store.freeze("conv_0");
  assertEquals(frozen, ["MeshNet/conv_0_relu/conv_/w", "MeshNet/conv_0_relu/conv_/b"]);
  const before = await store.toNamedTensors();
  const counts: number[] = [];
  const losses = await fineTune(network, store, data, {
    iterations: 12,
    learningRate: 0.05,
    windowSize: 12,
    nClasses: 3,
    seed: 7,
    onIteration: () => void counts.push(tf.memory().numTensors),
  });
  assertEquals(losses.length, 12);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  assert(mean(losses.slice(-3)) < 0.8 * mean(losses.slice(0, 3)), `losses ${losses.map((l) => l.toFixed(3))}`);
  assertEquals(new Set(counts).size, 1, `tensor count changed across iterations: ${counts}`);
  const after = await store.toNamedTensors();
  for (const [path, t] of before) {
    const same = (after.get(path)!.data as Float32Array).every((v, i) => Object.is(v, t.data[i]));
    assertEquals(same, frozen.includes(path), `${path}: ${same ? "unchanged" : "changed"}`);
  }
  store.dispose();
});

Deno.test("fineTune refuses bad settings with one line", async () => {
  const data = phantom(8);
  const network = new MeshNet({ numClasses: 3, channels: 2, dilations: [1] });
  const store = new VariableStore();
  const base = { iterations: 1, learningRate: 0.01, windowSize: 8, nClasses: 3 };
  await fineTune(network, store, { ...data, voxels: new Int32Array(0) }, base).then(
    () => assert(false, "no labels accepted"),
    (e) => assertEquals(e.message, "fine-tune: no labelled voxel to learn from"),
  );
  await fineTune(network, store, data, { ...base, iterations: 0 }).then(
    () => assert(false),
    (e) => assertEquals(e.message, "fine-tune iterations must be a positive integer, got 0"),
  );
  store.freeze(".*");
  await fineTune(network, store, data, base).then(
    () => assert(false, "everything frozen accepted"),
    (e) => assert(/no trainable variables/.test(e.message), e.message),
  );
  store.dispose();
});

/** A 20³ head-sized scan (4 mm voxels, 80 mm across) and a label volume on its grid. */
function scanAndLabels(): { scan: Image; labels: Image } {
  const affine = [[4, 0, 0, -40], [0, 4, 0, -40], [0, 0, 4, -40], [0, 0, 0, 1]];
  const base = {
    shape: [20, 20, 20, 1, 1],
    ndim: 3,
    affine,
    pixdim: [4, 4, 4],
    affineSource: "sform" as const,
  };
  const scan = { ...base, data: Float32Array.from({ length: 8000 }, (_, i) => 50 + (i % 97)), datatype: "float32" };
  const labels = new Uint8Array(8000);
  labels[10 + 20 * 10 + 400 * 10] = 2; // one voxel of each class
  labels[11 + 20 * 10 + 400 * 10] = 1;
  labels[5 + 20 * 5 + 400 * 5] = BACKGROUND_LABEL;
  return { scan: scan as unknown as Image, labels: { ...base, data: labels, datatype: "uint8" } as unknown as Image };
}

const GWM = getZooEntry("gwm-light");

/** gwm-light's network with random weights, as named tensors (no download needed). */
async function randomGwmTensors() {
  const store = new VariableStore({ seed: 3 });
  tf.tidy(() => void applyNetwork(zooNetwork(GWM), [tf.zeros([1, 4, 4, 4, 1])], { store }));
  const tensors = await store.toNamedTensors();
  store.dispose();
  return tensors;
}

Deno.test("zooTrainingData conforms the scan and labels like the segmentation; bad labels give one line", async () => {
  const model = zooModelFromTensors(GWM, await randomGwmTensors());
  const { scan, labels } = scanAndLabels();
  const data = zooTrainingData(model, scan, labels, { labelSource: "labels.nii" });
  assertEquals(data.shape, [256, 256, 256]);
  assertEquals(data.volume.length, 256 ** 3);
  // Each 4 mm voxel covers 4³ voxels of the 1 mm grid (nearest neighbour).
  assertEquals(data.voxels.length, 3 * 64);
  assertEquals([0, 1, 2].map((c) => data.classes.filter((v) => v === c).length), [64, 64, 64]);
  const bad: [Partial<Image>, RegExp][] = [
    [
      { shape: [20, 20, 10, 1, 1], data: new Uint8Array(4000) },
      /^Error: labels\.nii: its grid \[20, 20, 10\] is not the/,
    ],
    [{ affine: [[4, 0, 0, -30], [0, 4, 0, -40], [0, 0, 4, -40], [0, 0, 0, 1]] }, /its affine differs .* by 10\.0 mm/],
    [
      { data: new Uint8Array(8000).fill(7, 3, 4) },
      /^Error: labels\.nii: value 7 at voxel 3 is not a label of gwm-light/,
    ],
    [{ data: new Uint8Array(8000) }, /^Error: labels\.nii: labels no voxel/],
  ];
  for (const [change, message] of bad) {
    throws(
      () => zooTrainingData(model, scan, { ...labels, ...change } as Image, { labelSource: "labels.nii" }),
      message,
    );
  }
  model.dispose();
});

Deno.test("a tuned zoo model's checkpoint bytes read back by the CLI's reader and restore by name", async () => {
  const tensors = await randomGwmTensors();
  const model = zooModelFromTensors(GWM, tensors, { varsToFreeze: "conv_[0-7]_" });
  assertEquals(model.store.trainableVariables().length, 4); // conv_8 and conv_output: w and b
  const bytes = await zooCheckpointBytes(model, { iteration: 3, config: { iterations: 3 }, source: "zoo:gwm-light" });
  const dir = await Deno.makeTempDir();
  const path = `${dir}/tuned.safetensors`;
  await Deno.writeFile(path, bytes);
  const { tensors: read, info } = await readCheckpoint(path);
  assertEquals([info.iteration, info.network, info.config], [3, "meshnet", { iterations: 3 }]);
  assertEquals([...read.keys()], [...tensors.keys()]);
  const again = zooModelFromTensors(GWM, (await restoreRuleFromFile(path)).source, { sourceName: path });
  for (const [name, t] of await again.store.toNamedTensors()) {
    assertEquals(t, { ...tensors.get(name)!, dtype: "float32" });
  }
  throws(() => zooModelFromTensors(GWM, tensors, { varsToFreeze: "(" }), /^Error: vars_to_freeze: "\(" is not a valid/);
  const partial = new Map([...tensors].slice(1));
  throws(() => zooModelFromTensors(GWM, partial, { sourceName: "x" }), /"x" has no weights for MeshNet\/conv_0_relu/);
  model.dispose();
  again.dispose();
  await Deno.remove(dir, { recursive: true });
});
