/**
 * Fully connected layers with NiftyNet's names.
 *
 * - `FCLayer` (scope `fc_` inside blocks): `w` [in, out] (NiftyNet default truncated normal σ = √(2/in)), bias `b`
 *   (on by default). Inputs of rank > 2 are flattened to [batch, −1] first.
 * - `FullyConnectedLayer`: fc → feature normalisation (batch by default) → activation → dropout, scope
 *   `<name>[_bn|_in|_gn][_<acti>]` (`se_fc_1_relu/fc_/w`).
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import type { Scope } from "../src/dsl/mod.ts";
import { CompositeLayer, type CompositeOptions, WeightedLayer, type WeightOptions } from "./_composite.ts";

/** Options of {@link FCLayer} (its bias is on unless `withBias: false`). */
export type FCLayerOptions = WeightOptions;

/** A plain dense layer. */
export class FCLayer extends WeightedLayer<FCLayerOptions> {
  constructor(nOutputChannels: number, options: FCLayerOptions & { name?: string } = {}) {
    super(nOutputChannels, options, { name: "fc", wInitializer: "niftynet_default", withBias: true });
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    if (x.rank < 2) throw new Error(`${scope.path}: expected a [batch, features…] tensor, got [${x.shape}]`);
    const flat = x.rank > 2 ? tf.reshape(x, [x.shape[0], -1]) : x;
    const w = this.kernel(scope, [flat.shape[1] as number, this.nOutputChannels]);
    return this.addBias(scope, tf.matMul(flat as tf.Tensor2D, w as tf.Tensor2D));
  }
}

/** Options of {@link FullyConnectedLayer}. */
export interface FullyConnectedOptions extends FCLayerOptions, CompositeOptions {}

/** NiftyNet's composite dense block. */
export class FullyConnectedLayer extends CompositeLayer {
  constructor(nOutputChannels: number, options: FullyConnectedOptions = {}) {
    super(options, { name: "fc", core: () => new FCLayer(nOutputChannels, { ...options, name: "fc_" }) });
  }
}
