/**
 * NiftyNet's `DenseFeatureStackBlock` (Dense V-Net; scope `dense_feature_stack_block`): the stack starts as
 * [input]; each of the `dilationRates.length` convolutions reads the channel concatenation of the whole stack and
 * appends its output, so the block returns [input, f₁, f₂, …]. The convolutions are `ConvolutionalLayer`s named as
 * TensorFlow uniquifies them (`conv_bn_relu`, `conv_bn_relu_1`, …), convolution i with dilation `dilationRates[i]`;
 * dropout (when `keepProb` is given) on every one but the last.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { ConvolutionalLayer, type ConvolutionalOptions } from "./convolution.ts";
import { spatialRank } from "./_util.ts";

/** Options of {@link DenseFeatureStackBlock}: those of its convolutions plus the block's name. */
export interface DenseFeatureStackOptions extends Omit<ConvolutionalOptions, "kernelSize" | "dilation" | "name"> {
  readonly name?: string;
  /** Name of every convolution (default "conv", uniquified per block). */
  readonly convName?: string;
}

/** Densely connected stack of convolutions. */
export class DenseFeatureStackBlock extends Layer<[tf.Tensor], tf.Tensor[]> {
  readonly #convs: ConvolutionalLayer[];

  constructor(
    nDenseChannels: number,
    { kernelSize, dilationRates }: { kernelSize: number | readonly number[]; dilationRates: readonly number[] },
    options: DenseFeatureStackOptions = {},
  ) {
    super(options.name ?? "dense_feature_stack_block");
    if (dilationRates.length === 0) throw new Error(`${this.name}: needs at least one dilation rate`);
    const { name: _name, convName = "conv", keepProb, ...conv } = options;
    this.#convs = dilationRates.map((d, i) =>
      new ConvolutionalLayer(nDenseChannels, {
        ...conv,
        kernelSize,
        dilation: d,
        name: convName,
        keepProb: i === dilationRates.length - 1 ? undefined : keepProb,
      })
    );
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor[] {
    spatialRank(x, scope.path);
    const stack = [x];
    for (const conv of this.#convs) stack.push(conv.apply(scope, stack.length === 1 ? x : tf.concat(stack, -1)));
    return stack;
  }
}
