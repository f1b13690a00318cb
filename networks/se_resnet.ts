/**
 * SE-ResNet: NiftyNet's `se_resnet`, the {@link ResNet} of resnet.ts with a channel squeeze-and-excitation layer
 * (`channel_squeeze_excitation`, reduction 16, Hu et al. 2018) on the residual branch of every bottleneck block.
 * Defaults: features [16, 64, 128], 1 block per resolution, scope `SE_ResNet`. Block channels must be divisible
 * by 16 (the SE layer's reduction). 2D or 3D input; logits `[N, numClasses]`.
 *
 * @module
 */
import { ResNetBase, type ResNetOptions } from "./resnet.ts";

/** NiftyNet's SE-ResNet classifier. */
export class SEResNet extends ResNetBase {
  constructor(options: ResNetOptions) {
    super(options, { name: "SE_ResNet", nFeatures: [16, 64, 128], nBlocks: 1, se: true });
  }
}
