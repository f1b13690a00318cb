/**
 * A zoo model: the tfjs layers-model imported into the DSL network's variables (paired layer by layer, shapes
 * checked), and its pre-model when it has one. Portable (no files: `load.ts` reads them under Deno, the web app
 * fetches them).
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import type { NamedTensors, TfjsLayersModel } from "../src/weights/mod.ts";
import { applyNetwork, pairWithNetwork, VariableStore } from "../src/dsl/mod.ts";
import { MeshNet } from "../networks/mod.ts";
import type { ZooManifest } from "./manifest.ts";

/** Where zoo files come from. */
export interface ZooSourceOptions {
  /** A mirror folder or URL laid out like upstream (default: env NIFTYTS_ZOO_MIRROR, else the public URLs). */
  readonly mirror?: string;
  /** The cache folder files are verified into (default: env NIFTYTS_CACHE, else the platform cache). */
  readonly cacheDir?: string;
  /** Download progress. */
  readonly onProgress?: (p: { file: string; received: number; total: number }) => void;
}

/** A loaded entry: manifest, DSL network with its variables, and the loaded pre-model if any. */
export interface ZooModel {
  readonly manifest: ZooManifest;
  readonly network: MeshNet;
  readonly store: VariableStore;
  readonly preModel?: ZooModel;
  /** Frees the variables (and the pre-model's). */
  dispose(): void;
}

/** The entry's MeshNet, built from its manifest options. */
export function zooNetwork(manifest: ZooManifest): MeshNet {
  return new MeshNet({ ...manifest.network.options });
}

/**
 * A zoo model from its manifest and its tfjs layers-model (read from the cache, or fetched by a browser): weights
 * paired with the DSL network layer by layer (shapes checked) and its variables created; `preModel` is the loaded
 * pre-model the manifest names, if any (owned by the result from then on).
 */
export function zooModelFromLayers(manifest: ZooManifest, keras: TfjsLayersModel, preModel?: ZooModel): ZooModel {
  const network = zooNetwork(manifest);
  const { tensors } = pairWithNetwork(keras, network, [1, 8, 8, 8, 1]);
  return zooModelFromTensors(manifest, tensors, { sourceName: manifest.id, preModel });
}

/** Options of {@link zooModelFromTensors}. */
export interface ZooTensorsOptions {
  /** Names the source in messages (default the entry's id). */
  readonly sourceName?: string;
  /** The loaded pre-model. */
  readonly preModel?: ZooModel;
  /** Whether `dispose()` frees the pre-model too (default true; false when it is shared with another model). */
  readonly ownsPreModel?: boolean;
  /** NiftyNet `vars_to_freeze`: variables whose path matches (searched anywhere) are kept fixed in training. */
  readonly varsToFreeze?: string;
}

/**
 * A zoo model whose variables are restored (restore-initializer, by DSL name) from named tensors: a checkpoint
 * written by `zoo export`, a fine-tuned checkpoint, or another model's {@link zooTensors}-style weights. Every
 * variable of the entry's network must be present with its shape.
 */
export function zooModelFromTensors(
  manifest: ZooManifest,
  tensors: NamedTensors,
  { sourceName = manifest.id, preModel, ownsPreModel = true, varsToFreeze }: ZooTensorsOptions = {},
): ZooModel {
  const network = zooNetwork(manifest);
  const store = new VariableStore({ restore: [{ source: tensors, sourceName }] });
  const release = () => {
    store.dispose();
    if (ownsPreModel) preModel?.dispose();
  };
  try {
    tf.tidy(() => {
      applyNetwork(network, [tf.zeros([1, 4, 4, 4, 1])], { store });
    });
  } catch (e) {
    release();
    throw e;
  }
  const report = store.restoreReport();
  if (report.initialized.length > 0) {
    release();
    throw new Error(`zoo entry "${manifest.id}": "${sourceName}" has no weights for ${report.initialized.join(", ")}`);
  }
  if (varsToFreeze) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(varsToFreeze);
    } catch (e) {
      release();
      throw new Error(`vars_to_freeze: "${varsToFreeze}" is not a valid regular expression (${(e as Error).message})`);
    }
    store.freeze(pattern);
  }
  return { manifest, network, store, preModel, dispose: release };
}
