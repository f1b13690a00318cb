/**
 * The network registry: NiftyNet's short names (`toynet`, `highres3dnet`…) to constructors, and plugins named
 * by module path or URL (a module whose default export, or export `network`, is a constructor or factory).
 *
 * @module
 */
import type { tf } from "../src/deps.ts";
import type { Layer } from "../src/dsl/mod.ts";
import { unknownNameMessage } from "../src/util/suggest.ts";
import { importPlugin, isModuleReference } from "../src/util/plugin.ts";
import type { NetworkOptions } from "./base.ts";
import { MeshNet } from "./meshnet.ts";
import { ToyNet } from "./toynet.ts";
import { HighRes3DNet } from "./highres3dnet.ts";
import { UNet3D } from "./unet.ts";
import { UNet2D } from "./unet_2d.ts";
import { VNet } from "./vnet.ts";
import { NoNewNet } from "./nonewnet.ts";
import { DeepMedic } from "./deepmedic.ts";
import { ScaleNet } from "./scalenet.ts";
import { HolisticNet } from "./holisticnet.ts";
import { DenseVNet } from "./dense_vnet.ts";
import { ResNet } from "./resnet.ts";
import { SEResNet } from "./se_resnet.ts";
import { VAE } from "./vae.ts";
import { SimpleGAN } from "./simple_gan.ts";
import { SimulatorGAN } from "./simulator_gan.ts";

/** A network applied to one image batch. */
export type Network = Layer<[tf.Tensor], tf.Tensor>;

/** Builds a network from NiftyNet-style options. */
export type NetworkFactory = (options: NetworkOptions) => Network;

/** One registered network and what it expects. */
export interface NetworkEntry {
  readonly factory: NetworkFactory;
  readonly description: string;
  /** Input ranks the network accepts: 4 = 2D [N,H,W,C], 5 = 3D [N,D,H,W,C]. */
  readonly inputRanks: readonly (4 | 5)[];
  /**
   * What the layer really is when not a plain {@link Network} (absent: one tensor in, one tensor out).
   * `"vae"`: takes images, returns a `VAEOutput` (vae.ts). `"gan"`: takes `[noise, images(, conditioning)]` and
   * returns the GAN's output object (simple_gan.ts, simulator_gan.ts). Check it before applying the factory's layer.
   */
  readonly outputKind?: "vae" | "gan";
}

const registry = new Map<string, NetworkEntry>();

/** Registers (or replaces) a network under a short name. */
export function registerNetwork(name: string, entry: NetworkEntry): void {
  registry.set(name.toLowerCase(), entry);
}

/** The registered short names, sorted. */
export function networkNames(): string[] {
  return [...registry.keys()].sort();
}

/** The entry for a short name, or an error with a "did you mean" suggestion. */
export function getNetwork(name: string): NetworkEntry {
  const entry = registry.get(name.toLowerCase());
  if (!entry) throw new Error(unknownNameMessage("network", name, networkNames()));
  return entry;
}

/**
 * Resolves a short name or a module path/URL to a factory. Relative paths are resolved against `baseDir`
 * (default: the working directory).
 */
export async function resolveNetwork(name: string, { baseDir = Deno.cwd() } = {}): Promise<NetworkFactory> {
  if (!isModuleReference(name)) return getNetwork(name).factory;
  const mod = await importPlugin(name, { what: "network module", baseDir });
  const exported = mod.network ?? mod.default;
  if (typeof exported !== "function") {
    throw new Error(`network module "${name}" must export a network class or factory as default or "network"`);
  }
  // A class must be called with `new`; a factory function must not.
  const isClass = /^class[\s{]/.test(Function.prototype.toString.call(exported));
  return isClass
    ? (options) => new (exported as new (o: NetworkOptions) => Network)(options)
    : (exported as NetworkFactory);
}

registerNetwork("toynet", {
  factory: (o) => new ToyNet(o),
  description: "NiftyNet's ToyNet: conv3-bn-relu (10 features) → conv1-bn",
  inputRanks: [4, 5],
});
registerNetwork("meshnet", {
  factory: (o) => new MeshNet(o),
  description: "brainchop's MeshNet: 9 dilated 3×3×3 convs (1…16…1) + 1×1×1 classifier",
  inputRanks: [5],
});
registerNetwork("highres3dnet", {
  factory: (o) => new HighRes3DNet(o),
  description: "NiftyNet's HighRes3DNet: 3³ conv + 9 residual blocks dilated 1/2/4 + two 1³ convs (3D, sizes ÷ 8)",
  inputRanks: [5],
});
registerNetwork("highres3dnet_small", {
  factory: (o) => new HighRes3DNet({ ...o, variant: "small" }),
  description: "HighRes3DNet with a stride-2 first conv and a stride-2 transposed conv before the classifier",
  inputRanks: [5],
});
registerNetwork("highres3dnet_large", {
  factory: (o) => new HighRes3DNet({ ...o, variant: "large" }),
  description: "HighRes3DNet with an extra 3³ conv (64) before two 1³ convs",
  inputRanks: [5],
});
registerNetwork("unet", {
  factory: (o) => new UNet3D(o),
  description: "NiftyNet's 3D U-Net (Çiçek 2016): 32…512 features, same convs, output cropped by 44 (sizes ÷ 8, ≥ 89)",
  inputRanks: [4, 5],
});
registerNetwork("unet_2d", {
  factory: (o) => new UNet2D(o),
  description: "NiftyNet's 2D U-Net (Ronneberger 2015): valid convs, crop-and-concat (≥ 173×173)",
  inputRanks: [4],
});
registerNetwork("vnet", {
  factory: (o) => new VNet(o),
  description: "NiftyNet's V-Net (Milletari 2016): 5³ residual conv blocks, stride-2 down/up convs (sizes ÷ 16)",
  inputRanks: [4, 5],
});
registerNetwork("nonewnet", {
  factory: (o) => new NoNewNet(o),
  description: "No New-Net (Isensee 2018): 3D U-Net, instance norm, leaky ReLU, linear upsampling (sizes ÷ 16)",
  inputRanks: [5],
});
registerNetwork("deepmedic", {
  factory: (o) => new DeepMedic(o),
  description: "DeepMedic: normal + ÷3 pathways of 8 valid 3×3×3 convs, 3 1×1×1 convs (odd sizes > 48, ÷3)",
  inputRanks: [4, 5],
});
registerNetwork("scalenet", {
  factory: (o) => new ScaleNet(o),
  description: "ScaleNet: per-modality convs, modality-set ScaleBlock, HighRes3DNet (≥ 2 modalities, sizes ÷8)",
  inputRanks: [5],
});
registerNetwork("holisticnet", {
  factory: (o) => new HolisticNet(o),
  description: "HolisticNet: 4 scales of HighRes blocks with score layers fused by a weighted average (even sizes)",
  inputRanks: [4, 5],
});
registerNetwork("dense_vnet", {
  factory: (o) => new DenseVNet(o),
  description: "Dense V-Net: 3 dense feature stacks at ½, ¼, ⅛ size, skips fused at ½ size (sizes ÷8)",
  inputRanks: [4, 5],
});
registerNetwork("resnet", {
  factory: (o) => new ResNet(o),
  description: "ResNet classifier: pre-activation bottlenecks, 3 × 10 blocks, global mean, FC → [N, classes]",
  inputRanks: [4, 5],
});
registerNetwork("se_resnet", {
  factory: (o) => new SEResNet(o),
  description: "SE-ResNet classifier: ResNet bottlenecks with channel squeeze-excitation → [N, classes]",
  inputRanks: [4, 5],
});
// The generative networks are not image → tensor layers: `outputKind` says what they take and return.
registerNetwork("vae", {
  factory: (o) => new VAE(o) as unknown as Network,
  description: "convolutional variational autoencoder; returns the 8 tensors of NiftyNet's VAE (sizes ÷8)",
  inputRanks: [4, 5],
  outputKind: "vae",
});
registerNetwork("simple_gan", {
  factory: (o) => new SimpleGAN({ name: o.name }) as unknown as Network,
  description: "SimpleGAN: resize-conv generator and discriminator; apply(noise, images) (sizes ÷16)",
  inputRanks: [4, 5],
  outputKind: "gan",
});
registerNetwork("simulator_gan", {
  factory: (o) => new SimulatorGAN({ name: o.name }) as unknown as Network,
  description: "SimulatorGAN: conditional generator + residual discriminator; apply(noise, images, cond?) (÷16)",
  inputRanks: [4, 5],
  outputKind: "gan",
});
