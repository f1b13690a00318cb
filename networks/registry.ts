/**
 * The network registry: NiftyNet's short names (`toynet`, `highres3dnet`…) to constructors, and plugins named
 * by module path or URL (a module whose default export, or export `network`, is a constructor or factory).
 *
 * @module
 */
import type { tf } from "../src/deps.ts";
import type { Layer } from "../src/dsl/mod.ts";
import { unknownNameMessage } from "../src/util/suggest.ts";
import type { NetworkOptions } from "./base.ts";
import { MeshNet } from "./meshnet.ts";
import { ToyNet } from "./toynet.ts";

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

/** Whether a name refers to a module rather than a registered short name. */
export function isModuleReference(name: string): boolean {
  return /[/\\]|\.(ts|js|mjs)$/.test(name) || /^[a-z]+:/.test(name);
}

/**
 * Resolves a short name or a module path/URL to a factory. Relative paths are resolved against `baseDir`
 * (default: the working directory).
 */
export async function resolveNetwork(name: string, { baseDir = Deno.cwd() } = {}): Promise<NetworkFactory> {
  if (!isModuleReference(name)) return getNetwork(name).factory;
  const url = /^[a-z]+:/.test(name) ? name : new URL(name, `file://${baseDir.replace(/\/?$/, "/")}`).href;
  let mod: Record<string, unknown>;
  try {
    mod = await import(url);
  } catch (e) {
    throw new Error(`cannot load network module "${name}": ${(e as Error).message}`);
  }
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
