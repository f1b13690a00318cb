import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { getNetwork, VAE, type VAEOutput, vaeOutputList } from "../networks/mod.ts";
import { assertThrows } from "./_util.ts";
import { assertGradients, assertReferenceCounts, ends, REFERENCE, trainLosses } from "./_network_torch_checks.ts";

await useBackend("cpu");

const SMALL = {
  convOutputChannels: [4, 8],
  convKernelSizes: [3, 3],
  convPoolingFactors: [2, 2],
  actiFuncConv: ["selu", "selu"],
  layerSizesEncoder: [16],
  actiFuncEncoder: ["selu"],
  numberOfLatentVariables: 4,
  layerSizesDecoderShared: [8],
  actiFuncDecoderShared: ["selu"],
} as const;

/** NiftyNet's VariationalLowerBound loss: Gaussian negative log-likelihood of the input + KL to N(0, I). */
function lowerBound(o: VAEOutput): tf.Scalar {
  return tf.tidy(() => {
    const axes = [...Array(o.images.rank - 1).keys()].map((i) => i + 1);
    const nll = tf.mul(
      0.5,
      tf.mean(tf.sum(
        tf.add(
          tf.add(o.dataLogvars, Math.log(2 * Math.PI)),
          tf.mul(tf.exp(tf.neg(o.dataLogvars)), tf.square(tf.sub(o.dataMeans, o.images))),
        ),
        axes,
      )),
    );
    const kl = tf.mul(
      -0.5,
      tf.mean(
        tf.sum(
          tf.sub(tf.sub(tf.add(1, o.posteriorLogvars), tf.square(o.posteriorMeans)), tf.exp(o.posteriorLogvars)),
          1,
        ),
      ),
    );
    return tf.add(nll, kl) as tf.Scalar;
  });
}

// Expected counts: tests/reference/networks_torch_counts.py, an independent PyTorch VAE with NiftyNet's layout
// (conv 32/64/96 + strided 2×2 convs, fc 256/128, 64 latents, shared fc 128 for the means decoder, two decoders
// of fc 128/256/serialised + deconv upsamplers and 3³ deconvs; batch norm everywhere but the latent layers).
Deno.test("vae 3D default on 16³: 1,492,834 trainable parameters (1,500,010 stored) like PyTorch; the 8 outputs", () => {
  const ref = REFERENCE["vae_3d"];
  assertReferenceCounts("vae_3d", getNetwork("vae").factory({ numClasses: 1 }));
  const store = new VariableStore({ seed: 1 });
  const shapes = tf.tidy(() => {
    const out = applyNetwork(new VAE(), [tf.zeros(ref.inputs[0])], { store }) as VAEOutput;
    return vaeOutputList(out).map((t) => t.shape);
  });
  // posterior means, logvars; data means, logvars; images; data variances; posterior variances; sample
  assertEquals(shapes, [...ref.outputs!, [2, 16, 16, 16, 1], [2, 16, 16, 16, 1], [2, 64], [2, 64]]);
  store.dispose();
});

Deno.test("vae 2D small: parameter count like PyTorch; the ConvDecoder_logvars decodes the sample directly", () => {
  assertReferenceCounts("vae_2d_small", new VAE(SMALL));
  const store = new VariableStore();
  tf.tidy(() => void applyNetwork(new VAE(SMALL), [tf.zeros([2, 8, 8, 1])], { store }));
  assertEquals(store.get("VAE/ConvDecoder_logvars/decoder_fc_16_bn_selu/fc_/w")!.shape, [4, 16]);
  assertEquals(store.get("VAE/ConvDecoder_means/decoder_fc_16_bn_selu/fc_/w")!.shape, [8, 16]);
  assertEquals(store.get("VAE/FCDecoder/FCDecoder_fc_8_bn_selu/fc_/w")!.shape, [4, 8]);
  assertEquals(store.get("VAE/ConvDecoder_means/decoder_upsampler_2_2_bn/deconv_/w")!.shape, [2, 2, 4, 8]); // 8 → 4 channels, ×2
  assertEquals(store.get("VAE/ConvDecoder_logvars/decoder_trans_conv_3_1_bn/deconv_/b")!.shape, [1]);
  assertEquals(store.get("VAE/gaussian_sampler/encoder_fc_means_4/fc_/w")!.shape, [16, 4]);
  store.dispose();
});

Deno.test("vae rejects sizes not divisible by the pooling and mismatched option lists before any tensor work", () => {
  assertThrows(() => new VAE({ convKernelSizes: [3] }), "one equal, non-zero length");
  const net = new VAE(SMALL);
  assertThrows(() => net.checkInput([2, 8, 6, 1]), "divisible by the total pooling factor 4");
  const x = tf.zeros([2, 8, 6, 1]);
  const store = new VariableStore();
  const before = tf.memory().numTensors;
  assertThrows(() => applyNetwork(net, [x], { store }), "divisible by the total pooling factor 4");
  assertEquals([store.records().length, tf.memory().numTensors], [0, before]);
  x.dispose();
  store.dispose();
});

Deno.test("vae (small, 2D): the lower bound gives finite gradients, non-zero except biases feeding batch norm", () => {
  const x = tf.randomUniform([4, 8, 8, 1], 0, 1, "float32", 41);
  const net = new VAE(SMALL);
  const store = new VariableStore({ seed: 42 });
  tf.tidy(() => void applyNetwork(net, [x], { store }));
  // A bias right before batch norm cancels out of the output: its exact gradient is 0 (NiftyNet has such biases).
  const peaks = assertGradients(store, () => lowerBound(applyNetwork(net, [x], { store, training: true })), {
    nearZero: /_bn[^/]*\/(conv_|fc_|deconv_)\/b$/,
  });
  assert([...peaks.keys()].some((p) => p.endsWith("encoder_fc_means_4/fc_/b") && peaks.get(p)! > 0));
  store.dispose();
  tf.dispose(x);
});

Deno.test("vae (small, 2D): 30 Adam steps lower the negative lower bound, tensor count flat", () => {
  const x = tf.tidy(() => tf.mul(tf.sigmoid(tf.randomNormal([4, 8, 8, 1], 0, 2, "float32", 43)), 1));
  const net = new VAE(SMALL);
  const store = new VariableStore({ seed: 44 });
  tf.tidy(() => void applyNetwork(net, [x], { store }));
  const losses = trainLosses(store, () => lowerBound(applyNetwork(net, [x], { store, training: true })), {
    learningRate: 0.01,
  });
  const { first, last } = ends(losses);
  assert(last < first, `loss ${first} → ${last}`);
  store.dispose();
  tf.dispose(x);
});
