/**
 * A zoo model: the tfjs layers-model imported into the DSL network's variables (paired layer by layer, shapes
 * checked), and its pre-model when it has one. Portable (no files: `load.ts` reads them under Deno, the web app
 * fetches them).
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import type { TfjsLayersModel } from "../src/weights/mod.ts";
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
  const store = new VariableStore({ restore: [{ source: tensors, sourceName: manifest.id }] });
  tf.tidy(() => {
    applyNetwork(network, [tf.zeros([1, 4, 4, 4, 1])], { store });
  });
  const report = store.restoreReport();
  if (report.initialized.length > 0) {
    store.dispose();
    preModel?.dispose();
    throw new Error(`zoo entry "${manifest.id}": no weights for ${report.initialized.join(", ")}`);
  }
  return {
    manifest,
    network,
    store,
    preModel,
    dispose() {
      store.dispose();
      preModel?.dispose();
    },
  };
}
