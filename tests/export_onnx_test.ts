/**
 * `cli.ts export --format onnx`: networks written as ONNX and run by onnxruntime (the reference, an independent
 * implementation of every op): brainchop's model5_gw_ae imported and exported gives the original tfjs-layers
 * model's logits on a crop of the real T1; ToyNet (any size), HighRes3DNet (PReLU, channel padding, dilations),
 * UNet2D (transposed convolutions, crops, concatenation) and a mindgrab-style MeshNet (instance norm, exact GELU:
 * not expressible in Keras) give our forward's outputs; a kernel with no ONNX mapping is refused by name.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { loadTfjsUnion, tf } from "../src/deps.ts";
import { applyNetwork, Layer, type Scope, VariableStore } from "../src/dsl/mod.ts";
import { exportCommand } from "../src/commands/export_model.ts";
import { importWeightsCommand } from "../src/commands/import_weights.ts";
import { zooExportCommand } from "../src/commands/zoo.ts";
import { loadZooModel } from "../zoo/mod.ts";
import { exportNetwork, onnxModelFromTrace, traceNetwork } from "../src/export/mod.ts";
import { getNetwork } from "../networks/mod.ts";
import type { NetworkOptions } from "../networks/base.ts";
import { assertNoTensorLeak, assertRejects } from "./_util.ts";
import { loadWithTfjsLayers, maxAbsDiff, onnxRuntime, runOnnx, t1Block } from "./_export_models.ts";

const { ort, reason } = await onnxRuntime();
if (reason) console.warn(`ONNX export checks skipped: ${reason}`);
const BRAINCHOP = new URL("../../shared/data/brainchop/", import.meta.url);
const brainchop = (() => {
  try {
    return Deno.statSync(new URL("models/model5_gw_ae/model.json", BRAINCHOP)).isFile;
  } catch {
    return false;
  }
})();
if (!brainchop) console.warn(`brainchop ONNX export test skipped: ${BRAINCHOP.pathname} is absent`);

Deno.test({
  name: "brainchop model5_gw_ae exported to ONNX gives the original tfjs-layers model's logits in onnxruntime",
  ignore: !ort || !brainchop,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const original = new URL("models/model5_gw_ae/model.json", BRAINCHOP).pathname;
    await importWeightsCommand(original, { out: `${dir}/m5.safetensors`, network: "meshnet" });
    const lines = await exportCommand(`${dir}/m5.safetensors`, { out: `${dir}/onnx`, format: "onnx" });
    assert(lines[0].includes("10 Conv") && lines[0].includes("9 Relu"), lines[0]);
    const x = await t1Block(new URL("t1_crop.nii.gz", BRAINCHOP).pathname);
    const tfl = await loadTfjsUnion();
    const reference = await loadWithTfjsLayers(tfl, original, true);
    const theirs = reference.predict(x) as tf.Tensor;
    const ours = await runOnnx(ort!, await Deno.readFile(`${dir}/onnx/model.onnx`), x);
    assertEquals(ours.shape, [1, 40, 40, 40, 3]);
    const diff = maxAbsDiff(ours, theirs);
    const labelsEqual = tf.tidy(() => tf.all(tf.equal(tf.argMax(ours, -1), tf.argMax(theirs, -1))).dataSync()[0]);
    console.log(`model5_gw_ae as ONNX: max abs logit diff vs tfjs-layers ${diff.toExponential(2)}`);
    assert(diff <= 1e-4, `max abs diff ${diff}`);
    assertEquals(labelsEqual, 1);
    tf.dispose([x, theirs, ours]);
    reference.dispose();
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "zoo export mindgrab --format onnx (instance norm + GELU, refused as tfjs) gives the zoo model's logits on T1",
  ignore: !ort || !brainchop,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const source = { mirror: BRAINCHOP.pathname, cacheDir: `${dir}/cache` };
    const lines = await zooExportCommand("mindgrab", `${dir}/mindgrab`, { ...source, format: "onnx" });
    assert(lines.at(-1)!.endsWith("mindgrab/model.onnx"), lines.join("\n"));
    const x = await t1Block(new URL("t1_crop.nii.gz", BRAINCHOP).pathname, 24);
    const zoo = await loadZooModel("mindgrab", source);
    const ours = tf.tidy(() => applyNetwork(zoo.network, [x], { store: zoo.store }));
    const theirs = await runOnnx(ort!, await Deno.readFile(`${dir}/mindgrab/model.onnx`), x);
    const diff = maxAbsDiff(ours, theirs);
    const scale = tf.tidy(() => tf.max(tf.abs(ours)).dataSync()[0]);
    console.log(`mindgrab as ONNX: max abs logit diff ${diff.toExponential(2)} (scale ${scale.toFixed(2)})`);
    assert(diff <= 1e-4 * Math.max(1, scale), `max abs diff ${diff}`);
    tf.dispose([x, ours, theirs]);
    zoo.dispose();
    await Deno.remove(dir, { recursive: true });
  },
});

/** Our forward vs onnxruntime on the export of a randomly initialised network. */
async function compareWithOnnxRuntime(
  name: string,
  options: Partial<NetworkOptions> & Record<string, unknown>,
  traceShape: number[],
  runShape = traceShape,
): Promise<{ diff: number; scale: number; free: boolean }> {
  const net = getNetwork(name).factory({ numClasses: 3, ...options });
  const store = new VariableStore({ seed: 11 });
  tf.tidy(() => {
    applyNetwork(net, [tf.zeros(traceShape)], { store });
  });
  // Non-trivial batch-norm statistics, so that folding or mapping them is checked.
  for (const [k, r] of store.records().entries()) {
    if (/moving_(mean|variance)|gamma|beta/.test(r.path)) {
      tf.tidy(() => r.variable.assign(tf.randomUniform([...r.shape], 0.5, 1.5, "float32", k)));
    }
  }
  const trace = traceNetwork(net, store, traceShape);
  const model = onnxModelFromTrace(trace);
  trace.dispose();
  const x = tf.randomNormal(runShape, 0, 1, "float32", 2);
  const ours = tf.tidy(() => applyNetwork(net, [x], { store }));
  const theirs = await runOnnx(ort!, model.bytes, x);
  assertEquals(theirs.shape, ours.shape);
  const diff = maxAbsDiff(ours, theirs);
  const scale = tf.tidy(() => tf.max(tf.abs(ours)).dataSync()[0]);
  console.log(`${name} as ONNX: max abs diff ${diff.toExponential(2)} (output scale ${scale.toFixed(2)})`);
  tf.dispose([x, ours, theirs]);
  store.dispose();
  return { diff, scale, free: model.inputShape.every((d, i) => i === model.inputShape.length - 1 || d === null) };
}

Deno.test({
  name: "ToyNet as ONNX runs at a size other than the traced one and gives our logits in onnxruntime",
  ignore: !ort,
  fn: async () => {
    const { diff, scale, free } = await compareWithOnnxRuntime("toynet", {}, [1, 8, 8, 8, 2], [2, 11, 9, 7, 2]);
    assert(free, "a fully convolutional network declares free sizes");
    assert(diff <= 1e-5 * Math.max(1, scale), `diff ${diff}`);
  },
});

Deno.test({
  name: "HighRes3DNet as ONNX (PReLU, channel padding, dilated convolutions) gives our logits in onnxruntime",
  ignore: !ort,
  fn: async () => {
    const { diff, scale } = await compareWithOnnxRuntime("highres3dnet", {}, [1, 16, 16, 16, 1]);
    assert(diff <= 1e-5 * Math.max(1, scale), `diff ${diff}`);
  },
});

Deno.test({
  name: "UNet2D as ONNX (transposed convolutions, crops, concatenation) gives our logits in onnxruntime",
  ignore: !ort,
  fn: async () => {
    const { diff, scale, free } = await compareWithOnnxRuntime("unet_2d", {}, [1, 188, 188, 1]);
    assert(!free, "crops depend on the traced size: the input is declared with it");
    assert(diff <= 1e-5 * Math.max(1, scale), `diff ${diff}`);
  },
});

Deno.test({
  name: "a mindgrab-style MeshNet (instance norm, exact GELU), which Keras cannot express, exports to ONNX exactly",
  ignore: !ort,
  fn: async () => {
    const options = {
      actiFunc: "gelu" as const,
      normalization: "instance",
      withBias: false,
      channels: 4,
      dilations: [1, 2, 4],
    };
    const { diff, scale, free } = await compareWithOnnxRuntime("meshnet", options, [1, 12, 12, 12, 1], [
      1,
      9,
      13,
      7,
      1,
    ]);
    assert(free, "instance norm works on any size");
    assert(diff <= 1e-5 * Math.max(1, scale), `diff ${diff}`);
  },
});

/** A layer running a kernel ONNX export does not map (a cumulative sum). */
class CumulativeNet extends Layer {
  forward(_scope: Scope, x: tf.Tensor): tf.Tensor {
    return tf.cumsum(x, 1);
  }
}

Deno.test({
  name: "a kernel with no ONNX mapping is refused naming its layer; nothing is written and no tensors leak",
  ignore: !ort,
  fn: async () => {
    const net = new CumulativeNet("Cumulative");
    const store = new VariableStore();
    const out = await Deno.makeTempDir();
    await assertNoTensorLeak("refused ONNX export", async () => {
      await assertRejects(
        () => exportNetwork(net, store, { format: "onnx", out, traceShape: [1, 4, 4, 4, 1] }),
        `cannot export network "Cumulative" as ONNX: layer "Cumulative" (CumulativeNet) runs Cumsum`,
      );
    });
    assertEquals([...Deno.readDirSync(out)], []);
    store.dispose();
    await Deno.remove(out, { recursive: true });
  },
});
