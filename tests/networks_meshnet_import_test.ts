/**
 * Acceptance for weight import: brainchop's externally trained MeshNet (../shared/data/meshnet_gw_ae) written in
 * the DSL, its weights brought in through the tfjs importer + restore-initializer, gives the same logits as the
 * same model loaded by tfjs-layers' own loadLayersModel.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { loadTfjsUnion, tf } from "../src/deps.ts";
import { applyNetwork, readCheckpoint, recordGraph, restoreRuleFromFile, VariableStore } from "../src/dsl/mod.ts";
import { readTfjsLayersModel } from "../src/weights/mod.ts";
import { MeshNet } from "../networks/mod.ts";
import { importWeightsCommand } from "../src/commands/import_weights.ts";

const MODEL_DIR = new URL("../../shared/data/meshnet_gw_ae/", import.meta.url);
const present = (() => {
  try {
    return Deno.statSync(new URL("model.json", MODEL_DIR)).isFile;
  } catch {
    return false;
  }
})();
if (!present) {
  console.warn(`MeshNet acceptance tests skipped: ${MODEL_DIR.pathname} is absent (see shared/data/README.md)`);
}

Deno.test("MeshNet in the DSL has brainchop's 5,598 parameters and layer layout", () => {
  const graph = recordGraph(new MeshNet({ numClasses: 3 }), [[1, 16, 16, 16, 1]]);
  assertEquals(graph.parameters, 5598); // README of the shared model: 5,598 parameters
  assertEquals(graph.outputShapes, [[1, 16, 16, 16, 3]]);
  const names = graph.root.children.map((c) => c.name);
  assertEquals(names, [...Array(9).keys()].map((i) => `conv_${i}_relu`).concat("conv_output"));
});

Deno.test({
  name:
    "brainchop MeshNet imported into the DSL gives tfjs-layers' own logits on random 64³ input (max abs diff ≤ 1e-4)",
  ignore: !present,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const modelJson = new URL("model.json", MODEL_DIR).pathname;
    const checkpoint = `${dir}/meshnet.safetensors`;
    const lines = await importWeightsCommand(modelJson, { out: checkpoint, network: "meshnet" });
    assert(lines.some((l) => l.includes("21/kernel → MeshNet/conv_0_relu/conv_/w [3,3,3,1,5]")), lines.join("\n"));
    assert(lines.some((l) => l.includes("output/bias → MeshNet/conv_output/conv_/b [3]")), lines.join("\n"));
    const { tensors, info } = await readCheckpoint(checkpoint);
    assertEquals(tensors.size, 20);
    assertEquals(info.network, "meshnet");

    // The DSL model, every variable from the checkpoint through the restore-initializer.
    const store = new VariableStore({ restore: [await restoreRuleFromFile(checkpoint, { include: /./ })] });
    const net = new MeshNet({ numClasses: 3 });
    const x = tf.randomUniform([1, 64, 64, 64, 1], 0, 1, "float32", 7);
    const ours = applyNetwork(net, [x], { store });
    const report = store.restoreReport();
    assertEquals(report.initialized, []);
    assertEquals(report.restored.length, 20);

    // The same model through tfjs-layers' own loader, from the same files.
    const tfl = await loadTfjsUnion();
    const model = await readTfjsLayersModel(modelJson);
    const raw = JSON.parse(await Deno.readTextFile(modelJson));
    // The model declares a 256³ input; its layers are fully convolutional, so declare free spatial dims (as
    // brainchop does for cropped volumes) to run tfjs-layers on the same 64³ input.
    const input = raw.modelTopology.model_config.config.layers.find((l: { class_name: string }) =>
      l.class_name === "InputLayer"
    );
    input.config.batch_input_shape = [null, null, null, null, 1];
    const shard = await Deno.readFile(new URL("group1-shard1of1.bin", MODEL_DIR));
    const reference = await tfl.loadLayersModel(tfl.io.fromMemory({
      modelTopology: raw.modelTopology,
      weightSpecs: raw.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
      weightData: shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.byteLength),
    }));
    assertEquals(model.weights.size, 20);
    const theirs = reference.predict(x) as tf.Tensor;
    assertEquals(ours.shape, theirs.shape);
    const diff = tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0];
    const scale = tf.max(tf.abs(theirs)).dataSync()[0];
    console.log(`MeshNet logits: max abs diff ${diff.toExponential(2)} (logit scale ${scale.toFixed(2)})`);
    assert(diff <= 1e-4, `max abs diff ${diff}`);
    assert(scale > 0.1, "logits are not trivially zero");
    tf.dispose([x, ours, theirs]);
    reference.dispose();
    store.dispose();
    await Deno.remove(dir, { recursive: true });
  },
});
