/**
 * The backend parity matrix (issue 12): narrow versions of every registered network on the smallest inputs they
 * accept; gradients for toynet, unet, highres3dnet, vnet, meshnet and dense_vnet. Each `build` is a self-contained
 * arrow function of the library (no outside names): the webgl test evaluates its source in a browser page.
 *
 * @module
 */
import type { ParityCase } from "./_backend_parity.ts";

/** Every case of the matrix. */
export const PARITY_CASES: readonly ParityCase[] = [
  { name: "toynet", build: (n) => new n.ToyNet({ numClasses: 2 }), inputs: [[1, 6, 6, 6, 1]], gradients: true },
  {
    name: "meshnet",
    build: (n) => new n.MeshNet({ numClasses: 2, channels: 3 }),
    inputs: [[1, 8, 8, 8, 1]],
    gradients: true,
  },
  {
    name: "highres3dnet",
    build: (n) => new n.HighRes3DNet({ numClasses: 2, nFeatures: [2, 3, 4, 4] }),
    inputs: [[1, 8, 8, 8, 1]],
    gradients: true,
  },
  {
    name: "highres3dnet_small",
    build: (n) => new n.HighRes3DNet({ numClasses: 2, variant: "small", nFeatures: [2, 3, 4, 4] }),
    inputs: [[1, 8, 8, 8, 1]],
  },
  {
    name: "highres3dnet_large",
    build: (n) => new n.HighRes3DNet({ numClasses: 2, variant: "large", nFeatures: [2, 3, 4, 4] }),
    inputs: [[1, 8, 8, 8, 1]],
  },
  {
    name: "unet",
    build: (n) => new n.UNet3D({ numClasses: 2, nFeatures: [2, 3, 4, 4, 5], border: 2 }),
    // 16³ so that the deepest level keeps 2³ voxels: batch norm over one voxel amplifies rounding noise.
    inputs: [[1, 16, 16, 16, 1]],
    gradients: true,
  },
  {
    name: "unet_2d",
    build: (n) => new n.UNet2D({ numClasses: 2, nFeatures: [2, 2, 3, 3, 4] }),
    inputs: [[1, 188, 188, 1]],
  },
  {
    name: "vnet",
    build: (n) => new n.VNet({ numClasses: 2, nFeatures: [2, 3, 4, 5, 6] }),
    inputs: [[1, 16, 16, 16, 1]],
    gradients: true,
  },
  {
    name: "nonewnet",
    build: (n) => new n.NoNewNet({ numClasses: 2, nFeatures: [2, 3, 4, 5, 6] }),
    inputs: [[1, 16, 16, 16, 1]],
  },
  {
    name: "deepmedic",
    build: (n) => new n.DeepMedic({ numClasses: 2, convFeatures: Array(8).fill(3), fcFeatures: [4, 4] }),
    inputs: [[1, 57, 57, 1]],
  },
  {
    name: "scalenet",
    build: (n) => new n.ScaleNet({ numClasses: 2, nFeatures: 4, frontEnd: new n.ToyNet({ numClasses: 2 }) }),
    inputs: [[1, 4, 4, 4, 2]],
  },
  {
    name: "holisticnet",
    build: (n) => new n.HolisticNet({ numClasses: 2, nFeatures: 4, nScoreFeatures: 4, nResBlocks: 1 }),
    inputs: [[1, 8, 8, 8, 1]],
  },
  {
    name: "dense_vnet",
    build: (n) =>
      new n.DenseVNet({
        numClasses: 2,
        nDenseChannels: [2, 2, 2],
        nSegChannels: [2, 2, 2],
        nInputChannels: [4, 2, 2],
        nDenseLayers: [1, 1, 1],
        usePrior: true,
        priorSize: 4,
      }),
    inputs: [[1, 8, 8, 8, 1]],
    gradients: true,
  },
  {
    name: "resnet",
    build: (n) => new n.ResNet({ numClasses: 3, nFeatures: [8, 16, 32], nBlocksPerResolution: 1 }),
    inputs: [[1, 8, 8, 8, 1]],
  },
  {
    name: "se_resnet",
    build: (n) => new n.SEResNet({ numClasses: 3, nFeatures: [8, 16, 32], nBlocksPerResolution: 1 }),
    inputs: [[1, 8, 8, 8, 1]],
  },
  {
    name: "vae",
    build: (n) =>
      new n.VAE({
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
    inputs: [[2, 8, 8, 8, 1]],
  },
  {
    name: "simple_gan",
    build: (n) => new n.SimpleGAN({ generatorChannels: [4, 2], discriminatorChannels: [2, 4] }),
    inputs: [[2, 10], [2, 16, 16, 16, 1]],
  },
  {
    name: "simulator_gan",
    build: (n) => new n.SimulatorGAN({ discriminatorChannels: [2, 4] }),
    inputs: [[2, 16], [2, 16, 16, 16, 1]],
  },
];
