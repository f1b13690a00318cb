/**
 * The 2D picture TensorBoard shows for a batch tensor: the first item, the first channel and, for 3D data, the
 * middle slice along the last spatial axis. Layout `[batch, x, y, (z,) channels]` (channels last, x slowest);
 * the picture has `x` rows and `y` columns.
 *
 * @module
 */
import type { tf } from "../../deps.ts";
import { imageFromValues } from "./event.ts";
import type { ImagePixels } from "./event.ts";

/** The middle-slice values of a host array with the given batch shape, row-major `rows × cols`. */
export function middleSlice(
  data: ArrayLike<number>,
  shape: readonly number[],
): { values: Float32Array; rows: number; cols: number } {
  if (shape.length !== 4 && shape.length !== 5) {
    throw new Error(`summary slice: expected [batch, x, y, (z,) channels], got [${shape}]`);
  }
  const [rows, cols] = [shape[1], shape[2]];
  const depth = shape.length === 5 ? shape[3] : 1;
  const channels = shape[shape.length - 1];
  const z = Math.floor(depth / 2);
  const values = new Float32Array(rows * cols);
  for (let x = 0; x < rows; x++) {
    for (let y = 0; y < cols; y++) values[x * cols + y] = data[((x * cols + y) * depth + z) * channels];
  }
  return { values, rows, cols };
}

/**
 * An 8-bit grayscale picture of a batch tensor's middle slice, scaled to its own value range. Reads the tensor
 * asynchronously (GPU backends cannot read back synchronously).
 */
export async function summarySlice(tensor: tf.Tensor): Promise<ImagePixels> {
  const { values, rows, cols } = middleSlice(await tensor.data(), tensor.shape);
  return imageFromValues(values, { height: rows, width: cols });
}
