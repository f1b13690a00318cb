import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import {
  applyNetwork,
  FunctionLayer,
  loadCheckpoint,
  parseScopeMapping,
  readCheckpoint,
  restoreRuleFromFile,
  saveCheckpoint,
  VariableStore,
} from "../src/dsl/mod.ts";
import type { NamedTensors } from "../src/weights/mod.ts";
import { ConvLayer } from "../layers/mod.ts";
import { ToyNet } from "../networks/mod.ts";
import { assertRejects, assertThrows } from "./_util.ts";

const tensor = (values: number[], shape: number[]) => ({
  dtype: "float32" as const,
  shape,
  data: new Float32Array(values),
});
const build = (net: Parameters<typeof applyNetwork>[0], store: VariableStore, shape: number[]) =>
  tf.tidy(() => void applyNetwork(net, [tf.zeros(shape)], { store }));

Deno.test("restore-initializer maps checkpoint scope MeshNet/ onto MySeg/encoder/ and reports restored vs initialized", () => {
  const source: NamedTensors = new Map([["MeshNet/conv_3/w", tensor([1, 2, 3, 4], [1, 1, 2, 2])]]);
  const store = new VariableStore({
    restore: [{ source, sourceName: "mesh.safetensors", mappings: [parseScopeMapping("MeshNet/=MySeg/encoder/")] }],
  });
  const encoder = new FunctionLayer(
    "encoder",
    (s, x: tf.Tensor) => new ConvLayer(2, { name: "conv_3", kernelSize: 1 }).apply(s, x),
  );
  const head = new ConvLayer(3, { name: "head", kernelSize: 1 });
  const net = new FunctionLayer("MySeg", (s, x: tf.Tensor) => head.apply(s, encoder.apply(s, x)));
  // The head is outside the mapping: the rule does not cover it, so it is initialized.
  build(net, store, [1, 3, 3, 2]);
  assertEquals([...store.get("MySeg/encoder/conv_3/w")!.variable.dataSync()], [1, 2, 3, 4]);
  assertEquals(store.restoreReport(), {
    restored: [{ path: "MySeg/encoder/conv_3/w", sourceName: "mesh.safetensors", sourcePath: "MeshNet/conv_3/w" }],
    initialized: ["MySeg/head/w"],
  });
  store.dispose();
});

Deno.test("vars_to_restore regex restores only matching variables; a matching variable missing from the file is an error", () => {
  const source: NamedTensors = new Map([["N/a/w", tensor([5, 6], [1, 1, 1, 2])], [
    "N/b/w",
    tensor([7, 8], [1, 1, 2, 1]),
  ]]);
  const a = new ConvLayer(2, { name: "a", kernelSize: 1 }), b = new ConvLayer(1, { name: "b", kernelSize: 1 });
  const net = new FunctionLayer("N", (s, x: tf.Tensor) => b.apply(s, a.apply(s, x)));
  const store = new VariableStore({ restore: [{ source, sourceName: "ckpt", include: /\/a\// }] });
  build(net, store, [1, 2, 2, 1]);
  assertEquals([...store.get("N/a/w")!.variable.dataSync()], [5, 6]);
  assert([...store.get("N/b/w")!.variable.dataSync()].join() !== "7,8");
  store.dispose();
  const strict = new VariableStore({ restore: [{ source: new Map(), sourceName: "empty.safetensors", include: /a/ }] });
  assertThrows(
    () => build(net, strict, [1, 2, 2, 1]),
    'cannot restore variable "N/a/w": "empty.safetensors" has no tensor "N/a/w" (vars_to_restore /a/)',
  );
  strict.dispose();
});

Deno.test("restoring a tensor of the wrong shape names both shapes", () => {
  const source: NamedTensors = new Map([["N/a/w", tensor([1, 2, 3], [1, 1, 3, 1])]]);
  const net = new FunctionLayer("N", (s, x: tf.Tensor) => new ConvLayer(1, { name: "a", kernelSize: 1 }).apply(s, x));
  const store = new VariableStore({ restore: [{ source, sourceName: "ckpt" }] });
  assertThrows(
    () => build(net, store, [1, 2, 2, 2]),
    'cannot restore variable "N/a/w" with shape [1,1,2,1] from "ckpt" tensor "N/a/w" with shape [1,1,3,1]',
  );
  store.dispose();
});

Deno.test("a layer restores itself from a checkpoint scope wherever it sits (per-layer restore)", () => {
  const source: NamedTensors = new Map([["Pretrained/block/w", tensor([9, 8], [1, 1, 1, 2])]]);
  const block = new ConvLayer(2, { name: "mine", kernelSize: 1 }).restoreFrom(source, "Pretrained/block", {
    sourceName: "pre.safetensors",
  });
  const net = new FunctionLayer(
    "Outer",
    (s, x: tf.Tensor) => new FunctionLayer("stage", (s2, y: tf.Tensor) => block.apply(s2, y)).apply(s, x),
  );
  const store = new VariableStore();
  build(net, store, [1, 2, 2, 1]);
  assertEquals([...store.get("Outer/stage/mine/w")!.variable.dataSync()], [9, 8]);
  assertEquals(store.restoreReport().restored[0].sourcePath, "Pretrained/block/w");
  store.dispose();
});

Deno.test("checkpoint round trip: save ToyNet with metadata, resume into a fresh store, restore with renaming from the file", async () => {
  const dir = await Deno.makeTempDir();
  const net = new ToyNet({ numClasses: 2 });
  const store = new VariableStore({ seed: 3 });
  build(net, store, [1, 4, 4, 4, 1]);
  const path = `${dir}/ckpt.safetensors`;
  const slots = new Map([[
    "ToyNet/conv_input_bn_relu/conv_/w/Adam/m",
    tensor(new Array(270).fill(0.5), [3, 3, 3, 1, 10]),
  ]]);
  await saveCheckpoint(path, store, { iteration: 12, network: "toynet", config: { lr: 0.1 }, slots });
  const loaded = await readCheckpoint(path);
  assertEquals(loaded.info.iteration, 12);
  assertEquals(loaded.info.network, "toynet");
  assertEquals(loaded.info.config, { lr: 0.1 });
  assert(loaded.tensors.has("ToyNet/conv_input_bn_relu/conv_/w/Adam/m"));

  const fresh = new VariableStore({ seed: 99 });
  build(net, fresh, [1, 4, 4, 4, 1]);
  await loadCheckpoint(path, fresh);
  for (const r of store.records()) {
    assertEquals([...fresh.get(r.path)!.variable.dataSync()], [...r.variable.dataSync()], r.path);
  }

  const renamed = new ToyNet({ numClasses: 2, name: "Student" });
  const rule = await restoreRuleFromFile(path, { mappings: [{ from: "ToyNet/", to: "Student/" }] });
  const student = new VariableStore({ restore: [rule] });
  build(renamed, student, [1, 4, 4, 4, 1]);
  assertEquals(student.restoreReport().restored.length, store.records().length);
  assertEquals(
    [...student.get("Student/conv_output_bn/conv_/w")!.variable.dataSync()],
    [...store.get("ToyNet/conv_output_bn/conv_/w")!.variable.dataSync()],
  );
  [store, fresh, student].forEach((s) => s.dispose());
  await Deno.remove(dir, { recursive: true });
});

Deno.test("resuming from a checkpoint that lacks variables, or is truncated, fails naming the file", async () => {
  const dir = await Deno.makeTempDir();
  const net = new ToyNet({ numClasses: 2 });
  const store = new VariableStore();
  build(net, store, [1, 4, 4, 4, 1]);
  const path = `${dir}/ckpt.safetensors`;
  await saveCheckpoint(path, store);
  const bytes = await Deno.readFile(path);
  await Deno.writeFile(`${dir}/cut.safetensors`, bytes.slice(0, bytes.length - 10));
  await assertRejects(() => loadCheckpoint(`${dir}/cut.safetensors`, store), `${dir}/cut.safetensors`);
  const other = new VariableStore();
  build(new ToyNet({ numClasses: 3 }), other, [1, 4, 4, 4, 1]);
  await assertRejects(() => loadCheckpoint(path, other), "has shape [1,1,1,10,2], the model's variable [1,1,1,10,3]");
  [store, other].forEach((s) => s.dispose());
  await Deno.remove(dir, { recursive: true });
});
