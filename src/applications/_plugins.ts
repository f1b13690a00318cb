/**
 * What the config names: the network (`[NETWORK] name`, a registered name or a module path/URL) and the loss
 * (`[TRAINING] loss_type`, a registered name or a module path/URL exporting loss definitions).
 *
 * @module
 */
import { getNetwork, type Network, resolveNetwork } from "../../networks/registry.ts";
import { isModuleReference, moduleUrl } from "../util/plugin.ts";
import type { NetworkOptions } from "../../networks/base.ts";
import type { ActivationName } from "../../layers/mod.ts";
import type { InitializerName } from "../dsl/mod.ts";
import { getLoss, loadLossPlugin, type LossApplication, type LossFunctions, lossNames } from "../losses/mod.ts";
import type { NiftyConfig } from "../engine/config/mod.ts";
import { zooIdOfNetworkName, ZooNetwork } from "../../zoo/network.ts";
import type { HonouredKeys } from "../engine/honoured_keys.ts";

/** The key {@link configuredNetwork} builds the network from. */
export const NETWORK_NAME_HONOURED_KEYS: HonouredKeys = { NETWORK: ["name"] };

/**
 * Keys {@link configuredNetwork} passes to the network factory. Applications whose registered networks ignore
 * some of them (the GANs take none, the VAE fixes its own activations) leave those out of their lists.
 */
export const NETWORK_OPTION_HONOURED_KEYS: HonouredKeys = {
  NETWORK: ["activation_function", "weight_initializer", "bias_initializer"],
};

/** The key {@link configuredLoss} reads. */
export const LOSS_HONOURED_KEYS: HonouredKeys = { TRAINING: ["loss_type"] };

/** A network built from the config, and what kind of layer it is. */
export interface ConfiguredNetwork {
  readonly network: Network;
  /** The config's name (registered name or module path), saved in checkpoints. */
  readonly name: string;
  /** `vae` / `gan` for the generative networks; undefined for image → tensor networks and plugins. */
  readonly outputKind?: "vae" | "gan";
}

/** Builds `[NETWORK] name` with `numClasses` and the config's activation and initializers. */
export async function configuredNetwork(
  config: NiftyConfig,
  options: { numClasses: number; fallback?: string },
): Promise<ConfiguredNetwork> {
  const name = config.network.name || options.fallback;
  if (!name) throw new Error(`"${config.source}": [NETWORK] name is not set`);
  const zooId = zooIdOfNetworkName(name);
  if (zooId !== undefined) return { network: zooConfiguredNetwork(config, zooId, options.numClasses), name };
  const factory = await resolveNetwork(name, { baseDir: config.configDir });
  const networkOptions: NetworkOptions = {
    numClasses: options.numClasses,
    actiFunc: config.network.activation_function as ActivationName,
    wInitializer: config.network.weight_initializer as InitializerName,
    bInitializer: config.network.bias_initializer as InitializerName,
  };
  const outputKind = isModuleReference(name) ? undefined : getNetwork(name).outputKind;
  return { network: factory(networkOptions), name, outputKind };
}

/**
 * `zoo:<id>`: the zoo entry's normalisation + MeshNet (see zoo/network.ts). Its classes and activation are the
 * entry's: a config that asks for others is refused rather than silently overridden.
 */
function zooConfiguredNetwork(config: NiftyConfig, id: string, numClasses: number): Network {
  const network = new ZooNetwork(id);
  const own = network.manifest.network.options;
  if (numClasses !== own.numClasses) {
    throw new Error(
      `"${config.source}": num_classes is ${numClasses} but network zoo:${id} has ${own.numClasses} classes`,
    );
  }
  const acti = config.network.activation_function;
  if (acti !== "relu" && acti !== own.actiFunc) {
    throw new Error(`"${config.source}": activation_function is ${acti} but network zoo:${id} uses ${own.actiFunc}`);
  }
  return network;
}

/** The `loss_type` of an application when the config keeps the segmentation default. */
const DEFAULT_LOSS: Readonly<Record<LossApplication, string>> = {
  segmentation: "Dice",
  regression: "L2Loss",
  classification: "CrossEntropy",
  autoencoder: "VariationalLowerBound",
  gan: "CrossEntropy",
};

/**
 * The loss function `[TRAINING] loss_type` names for an application. A module path or URL is imported (relative
 * to the config's folder) and its first definition for this application is used. NiftyNet's default `Dice` means
 * the application's own default outside segmentation.
 */
export async function configuredLoss<A extends LossApplication>(
  config: NiftyConfig,
  application: A,
  options: { nClasses?: number; softmax?: boolean } = {},
): Promise<LossFunctions[A]> {
  let name = config.training.loss_type;
  if (application !== "segmentation" && name === "Dice") name = DEFAULT_LOSS[application];
  if (isModuleReference(name)) {
    const names = await loadLossPlugin(moduleUrl(name, config.configDir));
    const own = names.find((n) => lossNames(application).includes(n));
    if (!own) throw new Error(`loss_type "${name}": the module defines no ${application} loss (it has ${names})`);
    name = own;
  }
  return getLoss(name, { application, nClasses: options.nClasses, softmax: options.softmax });
}
