import assert from "node:assert/strict";
import { type NamedTensor, type NamedTensors, renameTensors } from "../src/weights/mod.ts";

function named(...names: string[]): NamedTensors {
  return new Map(
    names.map((n, i): [string, NamedTensor] => [n, { dtype: "float32", shape: [1], data: new Float32Array([i]) }]),
  );
}

Deno.test("renameTensors moves a scope prefix and keeps unmatched names, order and shared data", () => {
  const tensors = named("MeshNet/conv_3/w", "MeshNet/conv_3/b", "other/w");
  const out = renameTensors(tensors, [{ from: "MeshNet", to: "MySeg/encoder" }]);
  assert.deepEqual([...out.keys()], ["MySeg/encoder/conv_3/w", "MySeg/encoder/conv_3/b", "other/w"]);
  assert.equal(out.get("MySeg/encoder/conv_3/w"), tensors.get("MeshNet/conv_3/w"), "same object, not a copy");
});

Deno.test("renameTensors matches whole path segments only: conv does not match conv_1/w", () => {
  const out = renameTensors(named("conv/w", "conv_1/w", "conv"), [{ from: "conv/", to: "c/" }]);
  assert.deepEqual([...out.keys()], ["c/w", "conv_1/w", "c"]);
});

Deno.test("renameTensors applies the first matching rule only", () => {
  const out = renameTensors(named("a/b/w", "a/x/w"), [
    { from: "a/b", to: "first" },
    { from: "a", to: "second" },
    { from: "a/b", to: "never" },
  ]);
  assert.deepEqual([...out.keys()], ["first/w", "second/x/w"]);
});

Deno.test("renameTensors with an empty from adds a prefix and with an empty to strips one", () => {
  assert.deepEqual([...renameTensors(named("21/kernel"), [{ from: "", to: "MeshNet" }]).keys()], ["MeshNet/21/kernel"]);
  assert.deepEqual([...renameTensors(named("model/21/kernel"), [{ from: "model", to: "" }]).keys()], ["21/kernel"]);
});

Deno.test("renameTensors refuses two names colliding after renaming, naming both", () => {
  assert.throws(
    () => renameTensors(named("old/w", "new/w"), [{ from: "old", to: "new" }]),
    { message: 'renaming makes "old/w" and "new/w" both "new/w"' },
  );
  assert.throws(() => renameTensors(named("a"), [{ from: "a", to: "" }]), /renaming "a" leaves an empty name/);
});
