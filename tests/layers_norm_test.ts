import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { ConvolutionalLayer, GNLayer, InstanceNormLayer } from "../layers/mod.ts";
import { assertClose, assertThrows, loadFixture } from "./_util.ts";

type Case = Record<string, number[]>;
const F = loadFixture<Record<string, Case>>("layers_library");

/** Output and input gradient of a layer for the fixture's x and cotangent r, after `setup` assigned parameters. */
function run(layer: InstanceNormLayer | GNLayer, c: Case, shape: number[], setup: (store: VariableStore) => void) {
  const store = new VariableStore();
  const x = tf.tensor(c.x, shape), r = tf.tensor(c.r, shape);
  tf.tidy(() => void applyNetwork(layer, [x], { store }));
  setup(store);
  const f = (input: tf.Tensor) => tf.sum(tf.mul(applyNetwork(layer, [input], { store, training: true }), r));
  const out = tf.tidy(() => applyNetwork(layer, [x], { store }));
  const gx = tf.grad(f)(x);
  const result = { out: out.dataSync(), gx: gx.dataSync(), paths: store.records().map((r) => r.path) };
  tf.dispose([x, r, out, gx]);
  store.dispose();
  return result;
}

Deno.test("InstanceNormLayer 3D output and input gradient match PyTorch instance_norm (eps 1e-6) to 1e-5", () => {
  const c = F.instance_norm;
  const res = run(new InstanceNormLayer(), c, [2, 4, 5, 3, 3], (store) => {
    store.get("instance_norm/InstanceNorm/gamma")!.variable.assign(tf.tensor(c.gamma));
    store.get("instance_norm/InstanceNorm/beta")!.variable.assign(tf.tensor(c.beta));
  });
  assertEquals(res.paths, ["instance_norm/InstanceNorm/beta", "instance_norm/InstanceNorm/gamma"]);
  assertClose(res.out, c.out, { rtol: 1e-5, atol: 1e-5, what: "output" });
  assertClose(res.gx, c.grad_x, { rtol: 1e-4, atol: 1e-4, what: "dL/dx" });
});

Deno.test("GNLayer 2D (6 channels, 3 groups) output and input gradient match PyTorch group_norm to 1e-5", () => {
  const c = F.group_norm;
  const res = run(new GNLayer({ groupSize: 3 }), c, [2, 5, 4, 6], (store) => {
    assertEquals(store.get("group_norm/gamma")!.shape, [1, 1, 1, 6]);
    store.get("group_norm/gamma")!.variable.assign(tf.tensor(c.gamma, [1, 1, 1, 6]));
    store.get("group_norm/beta")!.variable.assign(tf.tensor(c.beta, [1, 1, 1, 6]));
  });
  assertClose(res.out, c.out, { rtol: 1e-5, atol: 1e-5, what: "output" });
  assertClose(res.gx, c.grad_x, { rtol: 1e-4, atol: 1e-4, what: "dL/dx" });
});

Deno.test("GNLayer rejects channels not divisible into its groups, naming the scope", () => {
  const store = new VariableStore();
  const x = tf.zeros([1, 4, 4, 6]);
  assertThrows(() => applyNetwork(new GNLayer({ groupSize: 4 }), [x], { store }), "group_norm: 6 input channels");
  x.dispose();
  store.dispose();
});

Deno.test("ConvolutionalLayer feature_normalization names: _bn, _in (in_/InstanceNorm), _gn (gn_), none; bad combos fail", () => {
  const cases: [ConvolutionalLayer, string[]][] = [
    [new ConvolutionalLayer(4, { name: "c", actiFunc: "relu" }), ["c_bn_relu/conv_/w", "c_bn_relu/bn_/beta"]],
    [
      new ConvolutionalLayer(4, { name: "c", featureNormalization: "instance", actiFunc: "leakyrelu" }),
      ["c_in_leakyrelu/conv_/w", "c_in_leakyrelu/in_/InstanceNorm/beta", "c_in_leakyrelu/in_/InstanceNorm/gamma"],
    ],
    [
      new ConvolutionalLayer(4, { name: "c", featureNormalization: "group", groupSize: 2 }),
      ["c_gn/conv_/w", "c_gn/gn_/beta", "c_gn/gn_/gamma"],
    ],
    [new ConvolutionalLayer(4, { name: "c", featureNormalization: null, withBias: true }), ["c/conv_/w", "c/conv_/b"]],
  ];
  for (const [layer, expected] of cases) {
    const store = new VariableStore();
    tf.tidy(() => void applyNetwork(layer, [tf.ones([1, 4, 4, 4, 2])], { store }));
    const paths: string[] = store.records().map((r) => r.path);
    for (const p of expected) assertEquals(paths.includes(p), true, `${p} missing from ${paths}`);
    store.dispose();
  }
  assertThrows(() => new ConvolutionalLayer(4, { featureNormalization: "group" }), "needs a group size > 0");
  assertThrows(() => new ConvolutionalLayer(4, { groupSize: 2 }), 'needs feature normalization "group"');
});
