/**
 * The network library.
 *
 * @module
 */
export * from "./base.ts";
export * from "./registry.ts";
export { ToyNet } from "./toynet.ts";
export { MeshNet, type MeshNetOptions, type MeshNetStage } from "./meshnet.ts";
export { HighRes3DNet, type HighRes3DNetOptions, type HighRes3DNetVariant, HighResBlock } from "./highres3dnet.ts";
export { UNet3D, type UNet3DOptions, UNetBlock } from "./unet.ts";
export { UNet2D, type UNet2DOptions, unet2dOutputSize } from "./unet_2d.ts";
export { VNet, VNetBlock, type VNetOptions } from "./vnet.ts";
export { NoNewNet, NoNewNetBlock, type NoNewNetOptions } from "./nonewnet.ts";
export { DeepMedic, type DeepMedicOptions } from "./deepmedic.ts";
export { ScaleNet, type ScaleNetOptions } from "./scalenet.ts";
export { HolisticNet, type HolisticNetOptions } from "./holisticnet.ts";
export { DenseVNet, type DenseVNetOptions } from "./dense_vnet.ts";
export { BottleneckBlock, DownResBlock, ResNet, type ResNetOptions } from "./resnet.ts";
export { SEResNet } from "./se_resnet.ts";
export {
  type CodeDecodingNetwork,
  isCodeDecodingNetwork,
  VAE,
  type VAEDecoded,
  VAEDecoder,
  type VAEOptions,
  type VAEOutput,
  vaeOutputList,
} from "./vae.ts";
export {
  SimpleGAN,
  SimpleGANDiscriminator,
  SimpleGANGenerator,
  type SimpleGANOptions,
  type SimpleGANOutput,
} from "./simple_gan.ts";
export {
  SimulatorGAN,
  SimulatorGANDiscriminator,
  SimulatorGANGenerator,
  type SimulatorGANOptions,
  type SimulatorGANOutput,
} from "./simulator_gan.ts";
