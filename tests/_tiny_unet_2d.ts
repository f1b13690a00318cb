/** Plugin module: NiftyNet's unet_2d with 2-8 features per level (same layers and sizes), for fast 2D runs. */
import { UNet2D } from "../networks/unet_2d.ts";
import type { NetworkOptions } from "../networks/base.ts";

export default function tinyUnet2d(options: NetworkOptions): UNet2D {
  return new UNet2D({ ...options, nFeatures: [2, 2, 4, 4, 8] });
}
