/**
 * The network a NiftyNet-style config names as `[NETWORK] name = zoo:<id>`: the entry's input normalisation
 * (min-max or brainchop's quantiles, over each window) followed by its MeshNet, under the MeshNet's own variable
 * names (`MeshNet/conv_0_relu/conv_/w` …), so the checkpoint `zoo pull` writes restores it one to one and
 * `vars_to_restore = ^MeshNet/` fine-tunes it. With one window per scan (the config `zoo pull` writes) the
 * normalisation is the whole volume's, as in `zoo run`.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import type { MeshNet } from "../networks/mod.ts";
import type { ZooManifest } from "./manifest.ts";
import { zooNetwork } from "./model.ts";
import { getZooEntry } from "./registry.ts";
import { brainchopQuantiles } from "./volume_ops.ts";

/** The config spelling of an entry's network. */
export function zooNetworkName(id: string): string {
  return `zoo:${id}`;
}

/** The entry id of a `zoo:<id>` network name, or undefined for any other name. */
export function zooIdOfNetworkName(name: string): string | undefined {
  return /^zoo:/i.test(name) ? name.slice(4) : undefined;
}

/** Normalisation + MeshNet of a zoo entry, as one layer named like the MeshNet. */
export class ZooNetwork extends Layer {
  readonly manifest: ZooManifest;
  readonly #mesh: MeshNet;

  constructor(entry: string | ZooManifest) {
    const manifest = typeof entry === "string" ? getZooEntry(entry) : entry;
    const mesh = zooNetwork(manifest);
    super(mesh.name);
    this.manifest = manifest;
    this.#mesh = mesh;
  }

  override get layerType(): string {
    return "ZooNetwork";
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    return this.#mesh.forward(scope, this.normalize(images));
  }

  /** Each batch element normalised as `zoo run` normalises the conformed volume (no gradient to the images). */
  normalize(images: tf.Tensor): tf.Tensor {
    const n = this.manifest.input.normalization;
    return tf.tidy(() => {
      const flat = images.reshape([images.shape[0], -1]);
      let lo: tf.Tensor, hi: tf.Tensor;
      if (n.kind === "minmax") {
        lo = flat.min(1);
        hi = flat.max(1);
      } else {
        const values = flat.dataSync() as Float32Array, per = values.length / images.shape[0];
        const q = Array.from(
          { length: flat.shape[0] },
          (_, b) => brainchopQuantiles(values.subarray(b * per, (b + 1) * per), n.low, n.high),
        );
        lo = tf.tensor1d(q.map((v) => v[0]));
        hi = tf.tensor1d(q.map((v) => v[1]));
      }
      const shape = [images.shape[0], ...images.shape.slice(1).map(() => 1)];
      const low = lo.reshape(shape), range = hi.sub(lo).reshape(shape);
      // A constant window becomes zeros (as in zoo run).
      const safe = tf.where(range.equal(0), tf.onesLike(range), range);
      return tf.where(range.equal(0), tf.zerosLike(images), images.sub(low).div(safe));
    });
  }
}
