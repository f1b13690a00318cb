import assert from "node:assert/strict";
import { join } from "node:path";
import { CheckpointError, decodeTfjsWeights, readTfjsLayersModel } from "../src/weights/mod.ts";
import { loadFixture } from "./_util.ts";

// ---------------------------------------------------------------- MeshNet: a real converted Keras model

const MESHNET = new URL("../../shared/data/meshnet_gw_ae/", import.meta.url);
const meshnetPresent = (() => {
  try {
    return Deno.statSync(new URL("model.json", MESHNET)).isFile;
  } catch {
    return false;
  }
})();
if (!meshnetPresent) {
  console.warn(`tfjs importer: ${MESHNET.pathname} absent (../shared/data/meshnet_gw_ae); MeshNet tests skipped`);
}

interface MeshnetFixture {
  model_json_sha256: string;
  shards_sha256: Record<string, string>;
  layers: { class_name: string; name: string }[];
  weights: { name: string; dtype: string; shape: number[]; sum: number; sum_sq: number; first: number[] }[];
}

async function sha256(url: URL): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(url));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test({
  name:
    "tfjs importer reads MeshNet's 20 weights equal to an independent numpy read (sums to 1e-12, first values exact)",
  ignore: !meshnetPresent,
  fn: async () => {
    const fixture = loadFixture<MeshnetFixture>("checkpoint_meshnet_weights");
    assert.equal(await sha256(new URL("model.json", MESHNET)), fixture.model_json_sha256, "model.json changed");
    for (const [shard, hash] of Object.entries(fixture.shards_sha256)) {
      assert.equal(await sha256(new URL(shard, MESHNET)), hash, `${shard} changed`);
    }
    const model = await readTfjsLayersModel(new URL("model.json", MESHNET));
    assert.equal(model.weights.size, 20);
    assert.deepEqual([...model.weights.keys()], fixture.weights.map((w) => w.name));
    for (const e of fixture.weights) {
      const w = model.weights.get(e.name)!;
      assert.equal(w.dtype, e.dtype, e.name);
      assert.deepEqual([...w.shape], e.shape, e.name);
      let sum = 0, sumSq = 0;
      for (const v of w.data) {
        sum += v;
        sumSq += v * v;
      }
      assert.ok(Math.abs(sum - e.sum) <= 1e-12 * Math.max(1, Math.abs(e.sum)), `${e.name} sum ${sum} vs ${e.sum}`);
      assert.ok(Math.abs(sumSq - e.sum_sq) <= 1e-12 * e.sum_sq, `${e.name} sum_sq ${sumSq} vs ${e.sum_sq}`);
      assert.deepEqual([...w.data.subarray(0, 5)], e.first, `${e.name} first values`);
    }
  },
});

Deno.test({
  name: "tfjs importer summarises MeshNet's functional topology: layers, inbound links, configs, weight names",
  ignore: !meshnetPresent,
  fn: async () => {
    const fixture = loadFixture<MeshnetFixture>("checkpoint_meshnet_weights");
    const { topology, format, generatedBy } = await readTfjsLayersModel(join(MESHNET.pathname, "model.json"));
    assert.equal(format, "layers-model");
    assert.equal(generatedBy, "keras v2.7.0");
    assert.equal(topology.className, "Functional");
    assert.equal(topology.kerasVersion, "2.7.0");
    assert.deepEqual(topology.inputs, ["input"]);
    assert.deepEqual(topology.outputs, ["output"]);
    assert.deepEqual(
      topology.layers.map((l) => ({ class_name: l.className, name: l.name })),
      fixture.layers,
    );
    const byName = new Map(topology.layers.map((l) => [l.name, l]));
    assert.deepEqual(byName.get("21")!.weightNames, ["21/kernel", "21/bias"]);
    assert.deepEqual(byName.get("22")!.weightNames, []);
    assert.deepEqual(byName.get("22")!.inbound, ["21"]);
    assert.deepEqual(byName.get("21")!.inbound, ["input"]);
    assert.deepEqual(byName.get("23")!.config.dilation_rate, [2, 2, 2]);
    assert.equal(byName.get("23")!.config.padding, "same");
    assert.equal(byName.get("22")!.config.activation, "relu");
    assert.ok(!("kernel_initializer" in byName.get("21")!.config), "initializers are stripped");
    assert.deepEqual(byName.get("output")!.weightNames, ["output/kernel", "output/bias"]);
  },
});

// ---------------------------------------------------------------- every tfjs weight encoding, from numpy

interface QuantizedFixture {
  model_json: Record<string, unknown>;
  shards: Record<string, string>;
  tensors: { name: string; dtype: string; shape: number[]; values: number[] }[];
}
const quantized = loadFixture<QuantizedFixture>("checkpoint_tfjs_quantized");

/** Writes the fixture's model.json (optionally edited or replaced by raw text) and shards into a temp folder. */
async function writeModel(
  edit: (model: Record<string, unknown>) => unknown = (m) => m,
): Promise<{ dir: string; path: string }> {
  const dir = await Deno.makeTempDir();
  const model = edit(structuredClone(quantized.model_json));
  const path = join(dir, "model.json");
  await Deno.writeTextFile(path, typeof model === "string" ? model : JSON.stringify(model));
  for (const [name, b64] of Object.entries(quantized.shards)) {
    await Deno.writeFile(join(dir, name), Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  }
  return { dir, path };
}

Deno.test("tfjs importer dequantizes uint8/uint16/float16, rounds quantized int32, reads bool/int32 and shards split mid-weight", async () => {
  const { dir, path } = await writeModel();
  try {
    const { weights } = await readTfjsLayersModel(path);
    assert.deepEqual([...weights.keys()], quantized.tensors.map((t) => t.name));
    for (const e of quantized.tensors) {
      const w = weights.get(e.name)!;
      assert.equal(w.dtype, e.dtype, e.name);
      assert.deepEqual([...w.shape], e.shape, e.name);
      // Exact, -0 included (strict deepEqual tells -0 from 0).
      assert.deepEqual([...w.data], e.values, e.name);
    }
    assert.ok(weights.get("dense/kernel")!.data instanceof Float32Array);
    assert.ok(weights.get("global_step")!.data instanceof Int32Array);
    assert.ok(weights.get("mask")!.data instanceof Uint8Array);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tfjs importer summarises a Sequential topology: chain links, weight names per layer, stripped configs", async () => {
  const { dir, path } = await writeModel();
  try {
    const { topology, convertedBy } = await readTfjsLayersModel(path);
    assert.equal(convertedBy, undefined);
    assert.equal(topology.className, "Sequential");
    assert.equal(topology.name, "tiny");
    assert.deepEqual(topology.inputs, ["dense"]);
    assert.deepEqual(topology.outputs, ["head"]);
    assert.deepEqual(topology.layers.map((l) => [l.className, l.name, l.inbound]), [
      ["Dense", "dense", []],
      ["Reshape", "reshape", ["dense"]],
      ["Conv2D", "conv", ["reshape"]],
      ["Dense", "head", ["conv"]],
    ]);
    assert.deepEqual(topology.layers.map((l) => l.weightNames), [
      ["dense/kernel", "dense/bias"],
      [],
      ["conv/kernel"],
      ["head/kernel", "head/empty"],
    ]);
    assert.deepEqual(topology.layers[0].config, {
      name: "dense",
      units: 4,
      use_bias: true,
      batch_input_shape: [null, 3],
    });
    assert.deepEqual(topology.layers[2].config, { name: "conv", filters: 3, kernel_size: [2, 2], use_bias: false });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tfjs float16 weights decode ±Infinity and NaN bit patterns", () => {
  const bits = new Uint16Array([0x7c00, 0xfc00, 0x7e00, 0x3c00, 0x8001]);
  const manifest = [{
    paths: ["x.bin"],
    weights: [{ name: "h", shape: [5], dtype: "float32", quantization: { dtype: "float16" } }],
  }];
  const h = decodeTfjsWeights(manifest, [new Uint8Array(bits.buffer)]).get("h")!;
  assert.deepEqual([...h.data], [Infinity, -Infinity, NaN, 1, -(2 ** -24)]);
});

interface Refusal {
  proves: string;
  prepare: (dir: string, model: Record<string, unknown>) => unknown | Promise<unknown>;
  message: string;
}
const manifest0 = (m: Record<string, unknown>) => (m.weightsManifest as { weights: Record<string, unknown>[] }[])[0];
const shard3 = "group1-shard3of3.bin";
const refusals: Refusal[] = [
  {
    proves: "a missing shard file (named in the message)",
    prepare: (dir) => Deno.remove(join(dir, "group1-shard2of3.bin")),
    message: 'weight shard "group1-shard2of3.bin" (weightsManifest[0].paths[1]) not found at ',
  },
  {
    proves: "shards holding fewer bytes than the manifest needs",
    prepare: async (dir) => {
      const b = await Deno.readFile(join(dir, shard3));
      await Deno.writeFile(join(dir, shard3), b.subarray(0, b.length - 1));
    },
    message: "weightsManifest[0] shards (group1-shard1of3.bin, group1-shard2of3.bin, group1-shard3of3.bin) hold",
  },
  {
    proves: "shards holding more bytes than the manifest needs",
    prepare: async (dir) => {
      const b = await Deno.readFile(join(dir, "group2-shard1of1.bin"));
      await Deno.writeFile(join(dir, "group2-shard1of1.bin"), new Uint8Array([...b, 0, 0]));
    },
    message: "weightsManifest[1] shards (group2-shard1of1.bin) hold 18 bytes but its 2 weights need 16 (2 extra)",
  },
  {
    proves: "model.json that is not JSON",
    prepare: (dir) => Deno.writeTextFile(join(dir, "model.json"), '{"modelTopology": '),
    message: "not valid JSON",
  },
  {
    proves: "a missing modelTopology",
    prepare: (dir, m) => {
      delete m.modelTopology;
      return Deno.writeTextFile(join(dir, "model.json"), JSON.stringify(m));
    },
    message: "model.json has no modelTopology",
  },
  {
    proves: "a missing weightsManifest",
    prepare: (dir, m) => {
      delete m.weightsManifest;
      return Deno.writeTextFile(join(dir, "model.json"), JSON.stringify(m));
    },
    message: "model.json has no weightsManifest",
  },
  {
    proves: "a missing model.json",
    prepare: (dir) => Deno.remove(join(dir, "model.json")),
    message: "file not found",
  },
  {
    proves: "a tfjs graph model",
    prepare: (dir, m) => Deno.writeTextFile(join(dir, "model.json"), JSON.stringify({ ...m, format: "graph-model" })),
    message: "this is a tfjs graph model",
  },
  {
    proves: "string weights",
    prepare: (dir, m) => {
      manifest0(m).weights[5].dtype = "string";
      return Deno.writeTextFile(join(dir, "model.json"), JSON.stringify(m));
    },
    message: 'weight "table" has dtype "string" (supported: float32, int32, bool)',
  },
  {
    proves: "an unknown quantization dtype",
    prepare: (dir, m) => {
      manifest0(m).weights[0].quantization = { dtype: "int4", scale: 1, min: 0 };
      return Deno.writeTextFile(join(dir, "model.json"), JSON.stringify(m));
    },
    message: 'weight "dense/kernel" has quantization dtype "int4" (supported: uint8, uint16, float16)',
  },
  {
    proves: "uint8 quantization without scale and min",
    prepare: (dir, m) => {
      manifest0(m).weights[0].quantization = { dtype: "uint8" };
      return Deno.writeTextFile(join(dir, "model.json"), JSON.stringify(m));
    },
    message: 'weight "dense/kernel" is quantized to uint8 but lacks a numeric scale and min',
  },
  {
    proves: "a weight name listed twice",
    prepare: (dir, m) => {
      manifest0(m).weights[1].name = "dense/kernel";
      return Deno.writeTextFile(join(dir, "model.json"), JSON.stringify(m));
    },
    message: 'weight "dense/kernel" appears twice in weightsManifest',
  },
];

for (const { proves, prepare, message } of refusals) {
  Deno.test(`tfjs importer refuses ${proves}, naming model.json`, async () => {
    const { dir, path } = await writeModel();
    try {
      await prepare(dir, structuredClone(quantized.model_json));
      await assert.rejects(() => readTfjsLayersModel(path), (e: Error) => {
        assert.ok(e instanceof CheckpointError, `a CheckpointError, got ${e}`);
        assert.ok(e.message.startsWith(`cannot read ${JSON.stringify(path)}: `), e.message);
        assert.ok(e.message.includes(message), `"${e.message}" lacks "${message}"`);
        return true;
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
