import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { applyNetwork, FunctionLayer, Layer, type Scope, VariableStore } from "../src/dsl/mod.ts";
import { ConvLayer } from "../layers/mod.ts";
import { assertNoTensorLeak, assertThrows } from "./_util.ts";

/** Applies `inner` twice (shared) and a second, same-named layer once. */
class SharedNet extends Layer {
  readonly shared = new ConvLayer(4, { name: "conv", kernelSize: 3 });
  readonly other = new ConvLayer(4, { name: "conv", kernelSize: 1 });
  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    return this.other.apply(scope, this.shared.apply(scope, this.shared.apply(scope, x)));
  }
}

/** Creates its layers inside forward (functional style): names must still be stable across applications. */
class FunctionalNet extends Layer {
  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const a = new ConvLayer(3, { name: "conv" }).apply(scope, x);
    return new ConvLayer(2, { name: "conv" }).apply(scope, a);
  }
}

Deno.test("sibling layers with one name get conv and conv_1; applying the same object again shares its variables", () => {
  const store = new VariableStore();
  tf.tidy(() => void applyNetwork(new SharedNet("Net"), [tf.ones([1, 6, 6, 6, 4])], { store }));
  assertEquals(store.records().map((r) => `${r.path} [${r.shape}]`), [
    "Net/conv/w [3,3,3,4,4]",
    "Net/conv_1/w [1,1,1,4,4]",
  ]);
  store.dispose();
});

Deno.test("layers created inside forward get the same paths on every application and reuse the variables", () => {
  const store = new VariableStore();
  const net = new FunctionalNet("F");
  const run = () => tf.tidy(() => applyNetwork(net, [tf.ones([1, 5, 5, 2])], { store }).dataSync().slice());
  const first = run();
  const paths = store.records().map((r) => r.path);
  assertEquals(paths, ["F/conv/w", "F/conv_1/w"]);
  assertEquals(run(), first);
  assertEquals(store.records().map((r) => r.path), paths);
  store.dispose();
});

Deno.test("variable shapes are inferred from the input in 2D and 3D", () => {
  for (const shape of [[2, 7, 9, 3], [1, 4, 5, 6, 3]]) {
    const store = new VariableStore();
    const out = tf.tidy(() =>
      applyNetwork(new ConvLayer(5, { name: "c", kernelSize: 3, withBias: true }), [tf.ones(shape)], { store }).shape
    );
    assertEquals(out, [...shape.slice(0, -1), 5]);
    const kernel = shape.length === 4 ? [3, 3] : [3, 3, 3];
    assertEquals(store.get("c/w")?.shape, [...kernel, 3, 5]);
    assertEquals(store.get("c/b")?.shape, [5]);
    store.dispose();
  }
});

Deno.test("a shared layer applied to an input with other channels fails naming both shapes", () => {
  const store = new VariableStore();
  const conv = new ConvLayer(2, { name: "c" });
  const net = new FunctionLayer("N", (s, x: tf.Tensor) => conv.apply(s, tf.concat([conv.apply(s, x), x], -1)));
  assertThrows(
    () => tf.tidy(() => void applyNetwork(net, [tf.ones([1, 4, 4, 4, 1])], { store })),
    'variable "N/c/w" exists with shape [3,3,3,1,2], requested again with [3,3,3,3,2]',
  );
  store.dispose();
});

Deno.test("two different layer objects cannot claim one scope, and invalid names are refused", () => {
  const store = new VariableStore();
  const a = new ConvLayer(2, { name: "c" });
  const b = new ConvLayer(2, { name: "c" });
  const net1 = new FunctionLayer("N", (s, x: tf.Tensor) => b.apply(s, a.apply(s, x)));
  tf.tidy(() => void applyNetwork(net1, [tf.ones([1, 4, 4, 2])], { store }));
  assertEquals(b.pathIn(store), "N/c_1");
  // A new object named "c" applied before `a` takes "c"; then `a` (bound to N/c) collides.
  const c = new ConvLayer(2, { name: "c" });
  const net2 = new FunctionLayer("N", (s, x: tf.Tensor) => a.apply(s, c.apply(s, x)));
  assertThrows(
    () => tf.tidy(() => void applyNetwork(net2, [tf.ones([1, 4, 4, 2])], { store })),
    'two layers claim scope "N/c"',
  );
  assertThrows(() => new ConvLayer(2, { name: "a/b" }), 'invalid layer name "a/b"');
  store.dispose();
});

Deno.test("applying a network repeatedly leaks no tensors", async () => {
  const store = new VariableStore();
  const net = new SharedNet("Net");
  const x = tf.ones([1, 5, 5, 5, 4]);
  tf.tidy(() => void applyNetwork(net, [x], { store }));
  await assertNoTensorLeak("20 applications", () => {
    for (let i = 0; i < 20; i++) tf.tidy(() => void applyNetwork(net, [x], { store, training: true }));
  });
  assert(store.records().length === 2);
  x.dispose();
  store.dispose();
});
