/**
 * `cli.ts export --format tfjs`: networks written as tfjs layers-models and loaded back by tfjs-layers' own
 * `loadLayersModel` (the reference): brainchop's model5_gw_ae imported and exported back gives the original
 * model's outputs on a crop of the real T1; a ToyNet with non-trivial batch-norm statistics (folded into its
 * convolutions) gives our DSL forward's logits; layers Keras cannot express are refused by name.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { loadTfjsUnion, tf } from "../src/deps.ts";
import { applyNetwork, saveCheckpoint, VariableStore } from "../src/dsl/mod.ts";
import { configToJson, parseConfig } from "../src/engine/config/mod.ts";
import { checkpointMetadata, readTfjsLayersModel, writeSafetensors } from "../src/weights/mod.ts";
import { exportCommand } from "../src/commands/export_model.ts";
import { zooExportCommand } from "../src/commands/zoo.ts";
import { loadZooModel } from "../zoo/mod.ts";
import { importWeightsCommand } from "../src/commands/import_weights.ts";
import { exportNetwork, kerasModelFromTrace, tfjsLayersFiles, traceNetwork } from "../src/export/mod.ts";
import { MeshNet, type MeshNetOptions, ToyNet } from "../networks/mod.ts";
import { assertNoTensorLeak, assertRejects } from "./_util.ts";
import { loadWithTfjsLayers, maxAbsDiff, t1Block } from "./_export_models.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const BRAINCHOP = new URL("../../shared/data/brainchop/", import.meta.url);
const present = (() => {
  try {
    return Deno.statSync(new URL("models/model5_gw_ae/model.json", BRAINCHOP)).isFile;
  } catch {
    return false;
  }
})();
if (!present) console.warn(`brainchop export tests skipped: ${BRAINCHOP.pathname} is absent`);

Deno.test({
  name: "brainchop model5_gw_ae imported and exported back gives the original's logits in tfjs-layers (40³ T1 crop)",
  ignore: !present,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const original = new URL("models/model5_gw_ae/model.json", BRAINCHOP).pathname;
    const checkpoint = `${dir}/model5.safetensors`;
    await importWeightsCommand(original, { out: checkpoint, network: "meshnet" });
    const lines = await exportCommand(checkpoint, { out: `${dir}/model5_tfjs`, format: "tfjs" });
    assert(lines[0].includes("10 Conv3D, 9 Activation; 5598 parameters"), lines.join("\n"));

    const x = await t1Block(new URL("t1_crop.nii.gz", BRAINCHOP).pathname); // a real 40³ block, min-max normalised
    const tfl = await loadTfjsUnion();
    const theirs = await loadWithTfjsLayers(tfl, original, true);
    const exported = await loadWithTfjsLayers(tfl, `${dir}/model5_tfjs/model.json`);
    const a = theirs.predict(x) as tf.Tensor;
    const b = exported.predict(x) as tf.Tensor;
    assertEquals(b.shape, [1, 40, 40, 40, 3]);
    const diff = maxAbsDiff(a, b);
    const labelsEqual = tf.tidy(() => tf.all(tf.equal(tf.argMax(a, -1), tf.argMax(b, -1))).dataSync()[0]);
    const scale = tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]);
    console.log(`model5_gw_ae re-exported: max abs logit diff ${diff.toExponential(2)} (scale ${scale.toFixed(2)})`);
    assert(diff <= 1e-5, `max abs diff ${diff}`);
    assertEquals(labelsEqual, 1);
    assert(scale > 0.1);
    // The export is a layers-model our own importer reads back too, with the free spatial input brainchop crops to.
    const back = await readTfjsLayersModel(`${dir}/model5_tfjs/model.json`);
    assertEquals(back.weights.size, 20);
    assertEquals(back.topology.layers[0].config.batch_input_shape, [null, null, null, null, 1]);
    tf.dispose([x, a, b]);
    theirs.dispose();
    exported.dispose();
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "zoo export --format tfjs shares the writer: gwm-light in tfjs-layers equals the zoo model; mindgrab is refused",
  ignore: !present,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const source = { mirror: BRAINCHOP.pathname, cacheDir: `${dir}/cache` };
    const lines = await zooExportCommand("gwm-light", `${dir}/gwm`, { ...source, format: "tfjs" });
    assert(lines.at(-1)!.endsWith("gwm/model.json"), lines.join("\n"));
    const tfl = await loadTfjsUnion();
    const exported = await loadWithTfjsLayers(tfl, `${dir}/gwm/model.json`);
    const zoo = await loadZooModel("gwm-light", source);
    const x = tf.randomUniform([1, 12, 10, 8, 1], 0, 1, "float32", 3);
    const ours = applyNetwork(zoo.network, [x], { store: zoo.store });
    const theirs = exported.predict(x) as tf.Tensor;
    assert(maxAbsDiff(ours, theirs) <= 1e-5);
    tf.dispose([x, ours, theirs]);
    exported.dispose();
    zoo.dispose();
    await assertRejects(
      () => zooExportCommand("mindgrab", `${dir}/mindgrab`, { ...source, format: "tfjs" }),
      `layer "MeshNet/conv_0_in_gelu/in_" (InstanceNormLayer) runs Mean, which has no Keras layer`,
    );
    await Deno.remove(dir, { recursive: true });
  },
});

/** A ToyNet whose every variable (batch-norm statistics included) is random, saved as a checkpoint. */
async function randomToyNet(path: string, inputShape: number[]): Promise<VariableStore> {
  const store = new VariableStore();
  tf.tidy(() => {
    applyNetwork(new ToyNet({ numClasses: 3 }), [tf.zeros(inputShape)], { store });
  });
  const tensors = new Map();
  for (const [k, r] of store.records().entries()) {
    const positive = /moving_variance|gamma/.test(r.path);
    const value = tf.tidy(() =>
      tf.randomUniform([...r.shape], positive ? 0.5 : -1, positive ? 2 : 1, "float32", k + 1)
    );
    r.variable.assign(value);
    tensors.set(r.path, { dtype: "float32", shape: r.shape, data: value.dataSync() as Float32Array });
    value.dispose();
  }
  await writeSafetensors(path, tensors, { metadata: checkpointMetadata({ network: "toynet" }) });
  return store;
}

for (const inputShape of [[1, 12, 10, 8, 2], [1, 14, 12, 2]]) {
  const dims = inputShape.length - 2;
  Deno.test(`ToyNet ${dims}D with batch norm folded into its convolutions gives our logits in tfjs-layers`, async () => {
    const dir = await Deno.makeTempDir();
    const store = await randomToyNet(`${dir}/toy.safetensors`, inputShape);
    const lines = await exportCommand(`${dir}/toy.safetensors`, {
      out: `${dir}/toy_tfjs`,
      inputShape,
    });
    assert(lines[0].includes(`exported toynet (3 classes)`), lines[0]);
    assert(lines[0].includes(`2 Conv${dims}D, 1 Activation`), lines[0]);
    const tfl = await loadTfjsUnion();
    const model = await loadWithTfjsLayers(tfl, `${dir}/toy_tfjs/model.json`);
    // Another size than the traced one: the export declares free spatial dims.
    const x = tf.randomNormal([2, ...inputShape.slice(1, -1).map((d) => d + 3), 2], 0, 1, "float32", 5);
    const ours = applyNetwork(new ToyNet({ numClasses: 3 }), [x], { store });
    const theirs = model.predict(x) as tf.Tensor;
    const diff = maxAbsDiff(ours, theirs);
    const scale = tf.tidy(() => tf.max(tf.abs(ours)).dataSync()[0]);
    console.log(`ToyNet ${dims}D exported: max abs logit diff ${diff.toExponential(2)} (scale ${scale.toFixed(2)})`);
    assert(diff <= 1e-5 * Math.max(1, scale), `max abs diff ${diff} (scale ${scale})`);
    tf.dispose([x, ours, theirs]);
    model.dispose();
    store.dispose();
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("a network with a layer Keras cannot express is refused naming that layer, and nothing is written", async () => {
  const cases: [MeshNetOptions, string][] = [
    [{ numClasses: 2, normalization: "instance" }, `layer "MeshNet/conv_0_in_relu/in_" (InstanceNormLayer) runs Mean`],
    [{ numClasses: 2, actiFunc: "gelu" }, `layer "MeshNet/conv_0_gelu/gelu_acti_" (ActiLayer) runs Erf`],
  ];
  for (const [options, fragment] of cases) {
    const net = new MeshNet({ ...options, channels: 2, dilations: [1, 2] });
    const store = new VariableStore();
    tf.tidy(() => {
      applyNetwork(net, [tf.zeros([1, 6, 6, 6, 1])], { store });
    });
    const out = await Deno.makeTempDir();
    await assertNoTensorLeak("refused export", async () => {
      await assertRejects(
        () => exportNetwork(net, store, { format: "tfjs", out, traceShape: [1, 6, 6, 6, 1] }),
        fragment,
      );
    });
    assertEquals([...Deno.readDirSync(out)], []);
    store.dispose();
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("tracing and exporting leave no tensors behind", async () => {
  const net = new MeshNet({ numClasses: 2, channels: 2, dilations: [1, 2] });
  const store = new VariableStore();
  tf.tidy(() => {
    applyNetwork(net, [tf.zeros([1, 6, 6, 6, 1])], { store });
  });
  const out = await Deno.makeTempDir();
  await assertNoTensorLeak(
    "export",
    () => exportNetwork(net, store, { format: "tfjs", out, traceShape: [1, 6, 6, 6, 1] }),
  );
  store.dispose();
  await Deno.remove(out, { recursive: true });
});

Deno.test("weights larger than one shard are split as the tfjs converter does and read back in order", async () => {
  const net = new MeshNet({ numClasses: 2, channels: 3, dilations: [1] });
  const store = new VariableStore();
  tf.tidy(() => {
    applyNetwork(net, [tf.randomNormal([1, 5, 5, 5, 1])], { store });
  });
  const trace = traceNetwork(net, store, [1, 5, 5, 5, 1]);
  const model = kerasModelFromTrace(trace);
  trace.dispose();
  const { modelJson, shards } = tfjsLayersFiles(model, { shardBytes: 40 });
  const total = model.weights.reduce((n, w) => n + w.data.length, 0) * 4;
  assertEquals([...shards.keys()].length, Math.ceil(total / 40));
  assertEquals([...shards.keys()][0], `group1-shard1of${Math.ceil(total / 40)}.bin`);
  const dir = await Deno.makeTempDir();
  for (const [name, bytes] of shards) await Deno.writeFile(join(dir, name), bytes);
  await Deno.writeTextFile(join(dir, "model.json"), JSON.stringify(modelJson));
  const back = await readTfjsLayersModel(join(dir, "model.json"));
  for (const w of model.weights) assertEquals([...back.weights.get(w.name)!.data], [...w.data]);
  store.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("export rebuilds the network from the checkpoint's saved config, or from -c config.ini on the command line", async () => {
  const dir = await Deno.makeTempDir();
  const text = "[NETWORK]\nname = toynet\nactivation_function = elu\n[SEGMENTATION]\nnum_classes = 4\n";
  const config = parseConfig(text, { source: `${dir}/config.ini` });
  await Deno.writeTextFile(`${dir}/config.ini`, text);
  const store = new VariableStore();
  const net = new ToyNet({ numClasses: 4, actiFunc: "elu" });
  tf.tidy(() => {
    applyNetwork(net, [tf.zeros([1, 6, 6, 6, 1])], { store });
  });
  await saveCheckpoint(`${dir}/ckpt.safetensors`, store, {
    iteration: 3,
    network: "toynet",
    config: configToJson(config),
  });
  const lines = await exportCommand(`${dir}/ckpt.safetensors`, { out: `${dir}/saved` });
  assert(lines[0].startsWith("exported toynet (4 classes)"), lines[0]);
  const topology = JSON.parse(await Deno.readTextFile(`${dir}/saved/model.json`)).modelTopology;
  const activations = topology.model_config.config.layers.filter((l: { class_name: string }) =>
    l.class_name === "Activation"
  ).map((l: { config: { activation: string } }) => l.config.activation);
  assertEquals(activations, ["elu"]);
  // The same through the CLI with the config file; a bad format is one line naming the value.
  const cli = (args: string[]) =>
    new Deno.Command(Deno.execPath(), { args: ["run", "-A", CLI, ...args], stdout: "piped", stderr: "piped" }).output();
  const ok = await cli(["export", `${dir}/ckpt.safetensors`, "-c", `${dir}/config.ini`, "--out", `${dir}/cli`]);
  assertEquals(ok.code, 0, new TextDecoder().decode(ok.stderr));
  assert(new TextDecoder().decode(ok.stdout).includes("exported toynet (4 classes)"));
  const bad = await cli(["export", `${dir}/ckpt.safetensors`, "--format", "pb", "--out", `${dir}/bad`]);
  assertEquals(bad.code, 1);
  assert(new TextDecoder().decode(bad.stderr).includes(`export format "pb" is not supported (supported: tfjs, onnx)`));
  store.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("export refuses an unknown format and a checkpoint that names no network", async () => {
  const dir = await Deno.makeTempDir();
  await writeSafetensors(`${dir}/bare.safetensors`, new Map(), {});
  await assertRejects(() => exportCommand(`${dir}/bare.safetensors`, { out: `${dir}/o` }), "give --network NAME");
  await assertRejects(
    () => exportCommand(`${dir}/bare.safetensors`, { out: `${dir}/o`, format: "pb" }),
    `export format "pb" is not supported`,
  );
  await Deno.remove(dir, { recursive: true });
});
