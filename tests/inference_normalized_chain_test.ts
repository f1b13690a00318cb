/**
 * normalizedChainLabels (src/inference/normalized_chain.ts) streams a chain of convolutions with whole-volume
 * instance normalisation in two passes per layer and gives what one application of the network to the whole
 * volume gives: a MeshNet with brainchop's `_gn` layers (bias-free, instance norm, exact GELU) and one with bias
 * and ELU, on slabs thinner than the dilated kernels' halo.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import "../src/kernels/mod.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { MeshNet, type MeshNetOptions } from "../networks/mod.ts";
import { normalizedChainLabels, type NormalizedLayer } from "../src/inference/mod.ts";
import type { EltwiseOp } from "../src/kernels/fast/mod.ts";
import { fastKernelStatus, registerFastCpuKernels } from "../src/kernels/fast/mod.ts";
import { assertClose } from "./_util.ts";

await tf.setBackend("cpu");
registerFastCpuKernels();
const onednn = fastKernelStatus().active;

const OPS: Record<string, EltwiseOp> = { gelu: { alg: "geluErf" }, elu: { alg: "elu", alpha: 1 } };

/** The network's layers read from its variables, in order (hidden blocks, then the classifier). */
function layersOf(store: VariableStore, options: MeshNetOptions & { dilations: number[] }): NormalizedLayer[] {
  const get = (path: RegExp) => store.records().find((r) => path.test(r.path));
  const layer = (block: string, dilation: number, hidden: boolean): NormalizedLayer => {
    const w = get(new RegExp(`^MeshNet/${block}/conv_/w$`))!;
    const b = get(new RegExp(`^MeshNet/${block}/conv_/b$`));
    return {
      w: w.variable.dataSync() as Float32Array,
      wShape: w.shape as unknown as NormalizedLayer["wShape"],
      bias: b?.variable.dataSync() as Float32Array | undefined,
      dilation,
      instanceNorm: hidden && options.normalization === "instance" ? { epsilon: 1e-5 } : undefined,
      activation: hidden ? OPS[options.actiFunc!] : undefined,
    };
  };
  return [...options.dilations.map((d, i) => layer(`conv_${i}_[a-z_]+`, d, true)), layer("conv_output", 1, false)];
}

for (
  const options of [
    { numClasses: 3, channels: 4, dilations: [1, 3, 2], actiFunc: "gelu", withBias: false, normalization: "instance" },
    { numClasses: 2, channels: 3, dilations: [2, 1], actiFunc: "elu", withBias: true, normalization: null },
  ] as const
) {
  Deno.test({
    name: `normalized chain = whole-volume MeshNet (${options.actiFunc}, ${options.normalization ?? "no"} norm), ` +
      `slabs of 2 planes`,
    ignore: !onednn,
    fn: () => {
      const net = new MeshNet({ ...options, dilations: [...options.dilations] });
      const store = new VariableStore({ seed: 5 });
      const shape = [11, 9, 7] as const;
      const x = tf.randomUniform([1, ...shape, 1], 0, 1, "float32", 7);
      try {
        tf.tidy(() => void applyNetwork(net, [x], { store })); // creates the variables
        // random biases, so the bias path is exercised
        for (const r of store.records().filter((r) => r.path.endsWith("/b"))) {
          tf.tidy(() => r.variable.assign(tf.randomUniform([...r.shape], -0.5, 0.5, "float32", 3)));
        }
        const before = tf.memory().numTensors;
        const reference = tf.tidy(() => applyNetwork(net, [x], { store }).dataSync() as Float32Array);
        const volume = x.dataSync() as Float32Array;
        const result = normalizedChainLabels(
          layersOf(store, { ...options, dilations: [...options.dilations] }),
          volume,
          shape,
          {
            planes: 2,
            logits: true,
          },
        );
        assert(result, "oneDNN is active");
        assertClose(result.logits!, reference, { rtol: 1e-4, atol: 1e-5, what: "logit" });
        const labels = tf.tidy(() =>
          tf.tensor(reference, [1, ...shape, options.numClasses]).argMax(-1).dataSync() as Int32Array
        );
        assertEquals([...result.labels], [...labels]);
        assertEquals(tf.memory().numTensors, before, "no tensor left behind");
      } finally {
        x.dispose();
        store.dispose();
      }
    },
  });
}
