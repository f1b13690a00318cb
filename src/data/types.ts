/**
 * The shapes the data pipeline passes between its stages: a float volume with channels, the subject record a reader
 * loads, and the window a sampler cuts out of it.
 *
 * @module
 */

/** Spatial extent `[x, y, z]`; a 2D image has `z = 1`. */
export type Spatial3 = readonly [number, number, number];

/** A subject identifier shared by every modality of one case (e.g. `"sub01"`). */
export type SubjectId = string & { readonly __brand?: "SubjectId" };

/**
 * A float volume with channels: voxel `(x, y, z)` of channel `c` is at `x + X·(y + Y·(z + Z·c))`, the layout of
 * {@link Image} data with t and c folded into channels.
 */
export interface ChannelVolume {
  readonly data: Float32Array;
  readonly shape: Spatial3;
  readonly channels: number;
}

/** Number of voxels in one channel. */
export function spatialSize(shape: Spatial3): number {
  return shape[0] * shape[1] * shape[2];
}

/** A zero-filled volume. */
export function zeroVolume(shape: Spatial3, channels = 1): ChannelVolume {
  return { data: new Float32Array(spatialSize(shape) * channels), shape: [shape[0], shape[1], shape[2]], channels };
}

/** Throws unless `data.length` matches `shape` and `channels`. */
export function checkChannelVolume(v: ChannelVolume, what = "volume"): ChannelVolume {
  const n = spatialSize(v.shape) * v.channels;
  if (v.data.length !== n) {
    throw new Error(
      `${what}: ${v.data.length} values for shape ${v.shape.join("x")} with ${v.channels} channels (${n})`,
    );
  }
  return v;
}

/** One channel of a volume, as a view (no copy). */
export function channelOf(v: ChannelVolume, c: number): Float32Array {
  const n = spatialSize(v.shape);
  return v.data.subarray(c * n, (c + 1) * n);
}

/** Stacks single- or multi-channel volumes of the same shape as channels, in order. */
export function stackChannels(volumes: readonly ChannelVolume[], what = "volumes"): ChannelVolume {
  if (volumes.length === 0) throw new Error(`${what}: nothing to stack`);
  const shape = volumes[0].shape;
  for (const v of volumes) {
    if (v.shape.some((n, i) => n !== shape[i])) {
      throw new Error(`${what}: cannot stack shape ${v.shape.join("x")} with ${shape.join("x")}`);
    }
  }
  const channels = volumes.reduce((acc, v) => acc + v.channels, 0);
  const data = new Float32Array(spatialSize(shape) * channels);
  let off = 0;
  for (const v of volumes) {
    data.set(v.data, off);
    off += v.data.length;
  }
  return { data, shape, channels };
}

/** Window position in a volume: the first voxel (may be negative or run past the edge) and the size. */
export interface WindowLocation {
  readonly start: Spatial3;
  readonly size: Spatial3;
}

/** A window cut from one subject by a sampler: one volume per input role (`image`, `label`, `weight` …). */
export interface Window {
  readonly subject: SubjectId;
  /** Position in the (preprocessed) subject volume, per role (roles may have different window sizes). */
  readonly location: Readonly<Record<string, WindowLocation>>;
  readonly data: Readonly<Record<string, ChannelVolume>>;
  /** Set on windows added to fill a final batch (`smaller_final_batch_mode = pad`). */
  readonly padding?: boolean;
}

/** Expands a `spatial_window_size` of 1–3 numbers to three (NiftyNet's `spatial_atleast3d`: missing dims are 1). */
export function toSpatial3(size: readonly number[], what = "spatial_window_size"): Spatial3 {
  if (size.length < 1 || size.length > 3 || !size.every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(`invalid ${what} ${JSON.stringify(size)}: expected 1 to 3 positive integers`);
  }
  return [size[0], size[1] ?? 1, size[2] ?? 1];
}
