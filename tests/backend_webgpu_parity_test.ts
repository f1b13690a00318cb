/**
 * WebGPU parity matrix (issue 12): every registered network's forward outputs on webgpu against cpu with the same
 * variables (relative error ≤ 1e−4), and for toynet, unet, highres3dnet, vnet, meshnet and dense_vnet the gradient
 * of a loss w.r.t. every trainable variable (≤ 1e−3). Runs on whatever adapter Deno finds (in CI: Mesa llvmpipe, a
 * software adapter: tiny shapes); skips with the reason when there is none.
 */
import { ok as assert } from "node:assert/strict";
import type { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import type { Layer } from "../src/dsl/mod.ts";
import { DeepMedic } from "../networks/deepmedic.ts";
import { DenseVNet } from "../networks/dense_vnet.ts";
import { HighRes3DNet } from "../networks/highres3dnet.ts";
import { HolisticNet } from "../networks/holisticnet.ts";
import { MeshNet } from "../networks/meshnet.ts";
import { NoNewNet } from "../networks/nonewnet.ts";
import { networkNames } from "../networks/registry.ts";
import { ResNet } from "../networks/resnet.ts";
import { ScaleNet } from "../networks/scalenet.ts";
import { SEResNet } from "../networks/se_resnet.ts";
import { SimpleGAN } from "../networks/simple_gan.ts";
import { SimulatorGAN } from "../networks/simulator_gan.ts";
import { ToyNet } from "../networks/toynet.ts";
import { UNet3D } from "../networks/unet.ts";
import { UNet2D } from "../networks/unet_2d.ts";
import { VAE } from "../networks/vae.ts";
import { VNet } from "../networks/vnet.ts";
import { parity, type ParityCase, webgpuAvailable } from "./_backend_parity.ts";

const gpu = await webgpuAvailable();
if (gpu.ok) await useBackend("webgpu");
await useBackend("cpu");

type Net = Layer<tf.Tensor[], unknown>;
const as = (n: unknown) => n as Net;
const hr = [2, 3, 4, 4] as const;

/** Narrow versions of every registered network on the smallest inputs they accept. */
const CASES: ParityCase[] = [
  { name: "toynet", build: () => as(new ToyNet({ numClasses: 2 })), inputs: [[1, 6, 6, 6, 1]], gradients: true },
  {
    name: "meshnet",
    build: () => as(new MeshNet({ numClasses: 2, channels: 3 })),
    inputs: [[1, 8, 8, 8, 1]],
    gradients: true,
  },
  {
    name: "highres3dnet",
    build: () => as(new HighRes3DNet({ numClasses: 2, nFeatures: [...hr] })),
    inputs: [[1, 8, 8, 8, 1]],
    gradients: true,
  },
  {
    name: "highres3dnet_small",
    build: () => as(new HighRes3DNet({ numClasses: 2, variant: "small", nFeatures: [...hr] })),
    inputs: [[1, 8, 8, 8, 1]],
  },
  {
    name: "highres3dnet_large",
    build: () => as(new HighRes3DNet({ numClasses: 2, variant: "large", nFeatures: [...hr] })),
    inputs: [[1, 8, 8, 8, 1]],
  },
  {
    name: "unet",
    build: () => as(new UNet3D({ numClasses: 2, nFeatures: [2, 3, 4, 4, 5], border: 2 })),
    // 16³ so that the deepest level keeps 2³ voxels: batch norm over one voxel amplifies rounding noise.
    inputs: [[1, 16, 16, 16, 1]],
    gradients: true,
  },
  {
    name: "unet_2d",
    build: () => as(new UNet2D({ numClasses: 2, nFeatures: [2, 2, 3, 3, 4] })),
    inputs: [[1, 188, 188, 1]],
  },
  {
    name: "vnet",
    build: () => as(new VNet({ numClasses: 2, nFeatures: [2, 3, 4, 5, 6] })),
    inputs: [[1, 16, 16, 16, 1]],
    gradients: true,
  },
  {
    name: "nonewnet",
    build: () => as(new NoNewNet({ numClasses: 2, nFeatures: [2, 3, 4, 5, 6] })),
    inputs: [[1, 16, 16, 16, 1]],
  },
  {
    name: "deepmedic",
    build: () => as(new DeepMedic({ numClasses: 2, convFeatures: Array(8).fill(3), fcFeatures: [4, 4] })),
    inputs: [[1, 57, 57, 1]],
  },
  {
    name: "scalenet",
    build: () => as(new ScaleNet({ numClasses: 2, nFeatures: 4, frontEnd: new ToyNet({ numClasses: 2 }) })),
    inputs: [[1, 4, 4, 4, 2]],
  },
  {
    name: "holisticnet",
    build: () => as(new HolisticNet({ numClasses: 2, nFeatures: 4, nScoreFeatures: 4, nResBlocks: 1 })),
    inputs: [[1, 8, 8, 8, 1]],
  },
  {
    name: "dense_vnet",
    build: () =>
      as(
        new DenseVNet({
          numClasses: 2,
          nDenseChannels: [2, 2, 2],
          nSegChannels: [2, 2, 2],
          nInputChannels: [4, 2, 2],
          nDenseLayers: [1, 1, 1],
          usePrior: true,
          priorSize: 4,
        }),
      ),
    inputs: [[1, 8, 8, 8, 1]],
    gradients: true,
  },
  {
    name: "resnet",
    build: () => as(new ResNet({ numClasses: 3, nFeatures: [8, 16, 32], nBlocksPerResolution: 1 })),
    inputs: [[1, 8, 8, 8, 1]],
  },
  {
    name: "se_resnet",
    build: () => as(new SEResNet({ numClasses: 3, nFeatures: [8, 16, 32], nBlocksPerResolution: 1 })),
    inputs: [[1, 8, 8, 8, 1]],
  },
  {
    name: "vae",
    build: () =>
      as(
        new VAE({
          convOutputChannels: [2, 2],
          convKernelSizes: [3, 3],
          convPoolingFactors: [2, 2],
          actiFuncConv: ["selu", "selu"],
          layerSizesEncoder: [8],
          actiFuncEncoder: ["selu"],
          numberOfLatentVariables: 4,
          layerSizesDecoderShared: [8],
          actiFuncDecoderShared: ["selu"],
        }),
      ),
    inputs: [[2, 8, 8, 8, 1]],
  },
  {
    name: "simple_gan",
    build: () => as(new SimpleGAN({ generatorChannels: [4, 2], discriminatorChannels: [2, 4] })),
    inputs: [[2, 10], [2, 16, 16, 16, 1]],
  },
  {
    name: "simulator_gan",
    build: () => as(new SimulatorGAN({ discriminatorChannels: [2, 4] })),
    inputs: [[2, 16], [2, 16, 16, 16, 1]],
  },
];

Deno.test("the parity matrix covers every registered network", () => {
  const missing = networkNames().filter((n) => !CASES.some((c) => c.name === n));
  assert(missing.length === 0, `networks without a parity case: ${missing.join(", ")}`);
});

for (const c of CASES) {
  const what = c.gradients ? "forward (≤ 1e-4) and every variable's gradient (≤ 1e-3)" : "forward (≤ 1e-4)";
  Deno.test({
    name: `webgpu parity: ${c.name} ${what} match cpu${gpu.ok ? "" : ` [skipped: ${gpu.reason}]`}`,
    ignore: !gpu.ok,
    fn: async () => {
      const r = await parity(c, "webgpu");
      console.log(
        `parity ${c.name} webgpu forward ${r.forward.toExponential(2)} ${r.worstOutput} gradient ${
          r.gradient.toExponential(2)
        } ${r.worstGradient}`,
      );
      assert(!r.zeroOutput, `${c.name}: webgpu output is all zeros`);
      assert(r.forward <= 1e-4, `${c.name}: forward relative error ${r.forward} > 1e-4`);
      assert(r.gradient <= 1e-3, `${c.name}: gradient relative error ${r.gradient} > 1e-3 (${r.worstGradient})`);
    },
  });
}
