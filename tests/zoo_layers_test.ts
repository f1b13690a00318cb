/**
 * What brainchop's networks need, as ordinary layers and options: exact GELU, ELU, plain instance normalisation
 * (checked against PyTorch), bias-free MeshNet blocks with per-layer dilations, and the stage-by-stage slab runner
 * giving exactly the whole-volume result.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { activate, InstanceNormLayer } from "../layers/mod.ts";
import { applyNetwork, recordGraph, VariableStore } from "../src/dsl/mod.ts";
import { MeshNet } from "../networks/mod.ts";
import { getZooEntry, runNetwork, type ZooModel, zooNetwork } from "../zoo/mod.ts";
import { assertClose, assertNoTensorLeak, loadFixture } from "./_util.ts";

interface LayerFixture {
  layers: { shape: number[]; x: number[]; gelu: number[]; elu: number[]; instance_norm: number[] };
}
const fixture = loadFixture<LayerFixture>("zoo_pipeline").layers;

Deno.test("exact GELU and ELU match PyTorch's F.gelu (erf) and F.elu", () => {
  const x = tf.tensor(fixture.x, fixture.shape);
  assertClose(activate("gelu", x), fixture.gelu, { rtol: 1e-5, atol: 2e-6, what: "gelu" });
  assertClose(activate("elu", x), fixture.elu, { rtol: 1e-5, atol: 1e-6, what: "elu" });
  x.dispose();
});

Deno.test("instance norm without affine has no variables and matches PyTorch's F.instance_norm (eps 1e-5)", () => {
  const store = new VariableStore();
  const x = tf.tensor(fixture.x, fixture.shape);
  const y = applyNetwork(new InstanceNormLayer({ eps: 1e-5, affine: false }), [x], { store });
  assertEquals(store.records().length, 0);
  assertClose(y, fixture.instance_norm, { rtol: 1e-4, atol: 1e-5, what: "instance norm" });
  tf.dispose([x, y]);
});

Deno.test("mindgrab's MeshNet: 25 bias-free blocks with plain instance norm and GELU, only kernels as variables", () => {
  const options = getZooEntry("mindgrab").network.options;
  const graph = recordGraph(new MeshNet({ ...options }), [[1, 8, 8, 8, 1]]);
  const names = graph.root.children.map((c) => c.name);
  assertEquals(names.length, 26);
  assertEquals(names[0], "conv_0_in_gelu");
  assertEquals(names.at(-1), "conv_output");
  // 3³·1·15 + 24·3³·15·15 kernels, no biases; classifier 15·2 + 2.
  assertEquals(graph.parameters, 27 * 15 + 24 * 27 * 15 * 15 + 15 * 2 + 2);
});

Deno.test("MeshNet refuses a bad dilation list and instance norm combined with batch norm", () => {
  let message = "";
  try {
    new MeshNet({ numClasses: 2, dilations: [1, 0] });
  } catch (e) {
    message = (e as Error).message;
  }
  assert(/dilations must be a non-empty list of positive integers, got \[1,0\]/.test(message), message);
  try {
    new MeshNet({ numClasses: 2, normalization: "instance", withBn: true });
    message = "";
  } catch (e) {
    message = (e as Error).message;
  }
  assert(/cannot be combined/.test(message), message);
});

function randomModel(id: string): ZooModel {
  const manifest = getZooEntry(id);
  const network = zooNetwork(manifest);
  const store = new VariableStore({ seed: 3 });
  tf.tidy(() => {
    applyNetwork(network, [tf.zeros([1, 4, 4, 4, 1])], { store });
  });
  return { manifest, network, store, dispose: () => store.dispose() };
}

Deno.test("slab-wise stages give exactly the whole-volume labels and probabilities, and leak no tensors", async () => {
  const model = randomModel("aparc104");
  const shape = [40, 9, 11] as const;
  const volume = Float32Array.from({ length: 40 * 9 * 11 }, (_, i) => Math.sin(i * 0.37) + (i % 7) * 0.1);
  const whole = runNetwork(model, volume, shape, { probabilities: true });
  // The budget allows ~2 rows per slab: every stage runs on many slabs with its own halo.
  await assertNoTensorLeak("slab run", () => {
    const slabs = runNetwork(model, volume, shape, { probabilities: true, slabBytes: 9 * 11 * 4 * 130 * 3 });
    assertEquals(slabs.labels, whole.labels);
    assertClose(slabs.probabilities!, whole.probabilities!, { rtol: 1e-5, atol: 1e-6, what: "probabilities" });
  });
  // And the whole-volume labels are the network's own argmax.
  const logits = applyNetwork(model.network, [tf.tensor5d(volume, [1, ...shape, 1])], { store: model.store });
  assertEquals(whole.labels, Uint8Array.from(tf.argMax(logits, -1).dataSync()));
  logits.dispose();
  assert(new Set(whole.labels).size > 1, "random network gives more than one class");
  model.dispose();
});

Deno.test("label maps of local networks are streamed by predictVolume and equal the stage-by-stage labels", async () => {
  for (const id of ["gwm-light", "subcortical-gwm", "aparc104"]) {
    const model = randomModel(id);
    const shape = [23, 10, 7] as const;
    const volume = Float32Array.from({ length: 23 * 10 * 7 }, (_, i) => Math.sin(i * 0.29) + (i % 5) * 0.2);
    const stages = runNetwork(model, volume, shape, { method: "stages" });
    await assertNoTensorLeak(`streamed ${id}`, () => {
      const streamed = runNetwork(model, volume, shape);
      assertEquals(streamed.labels, stages.labels, id);
    });
    model.dispose();
  }
});

Deno.test("a network with instance norm runs each stage on the whole volume", () => {
  const model = randomModel("mindgrab");
  const shape = [12, 6, 5] as const;
  const volume = Float32Array.from({ length: 12 * 6 * 5 }, (_, i) => Math.cos(i * 0.21));
  const tiny = runNetwork(model, volume, shape, { slabBytes: 1 });
  const logits = applyNetwork(model.network, [tf.tensor5d(volume, [1, ...shape, 1])], { store: model.store });
  assertEquals(tiny.labels, Uint8Array.from(tf.argMax(logits, -1).dataSync()));
  logits.dispose();
  model.dispose();
});
