/**
 * Protobuf encoding of TensorBoard `Event` messages (tensorflow/core/util/event.proto and
 * framework/summary.proto; field numbers noted inline).
 *
 * @module
 */
import { BinaryWriter, encodePng, WireType } from "../../deps.ts";

/** An 8-bit image: `data` holds `height × width × channels` bytes, row-major, channels interleaved. */
export interface ImagePixels {
  /** Pixel bytes, row-major, channels interleaved. */
  readonly data: Uint8Array | Uint8ClampedArray;
  /** Rows. */
  readonly height: number;
  /** Columns. */
  readonly width: number;
  /** 1 = grayscale (default), 3 = RGB, 4 = RGBA. */
  readonly channels?: 1 | 3 | 4;
}

/** What one event carries (the `what` oneof of `Event`). */
export type EventPayload =
  | { readonly kind: "fileVersion"; readonly version: string }
  | { readonly kind: "scalar"; readonly tag: string; readonly value: number }
  | { readonly kind: "image"; readonly tag: string; readonly image: ImagePixels }
  | { readonly kind: "graph"; readonly graphDef: Uint8Array };

/** Event header fields. */
export interface EventOptions {
  /** Seconds since the Unix epoch (fractional). */
  readonly wallTime: number;
  /** Global step; 0 when omitted. */
  readonly step?: number;
}

// Summary.Image colorspace codes: 1 grayscale, 3 RGB, 4 RGBA.
const COLORSPACE = { 1: 1, 3: 3, 4: 4 } as const;

/**
 * Serializes one `Event` message (not yet framed as a record).
 *
 * @example
 * ```ts
 * const bytes = encodeEvent({ kind: "scalar", tag: "loss", value: 0.5 }, { wallTime: 1.7e9, step: 3 });
 * ```
 */
export function encodeEvent(payload: EventPayload, { wallTime, step = 0 }: EventOptions): Uint8Array {
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`event step must be an integer >= 0, got ${step}`);
  const w = new BinaryWriter();
  w.tag(1, WireType.Bit64).double(wallTime); // Event.wall_time
  if (step !== 0) w.tag(2, WireType.Varint).int64(step); // Event.step
  switch (payload.kind) {
    case "fileVersion":
      w.tag(3, WireType.LengthDelimited).string(payload.version); // Event.file_version
      break;
    case "graph":
      w.tag(4, WireType.LengthDelimited).bytes(payload.graphDef); // Event.graph_def
      break;
    case "scalar":
      w.tag(5, WireType.LengthDelimited).fork(); // Event.summary
      w.tag(1, WireType.LengthDelimited).fork(); // Summary.value
      w.tag(1, WireType.LengthDelimited).string(payload.tag); // Value.tag
      w.tag(2, WireType.Bit32).float(payload.value); // Value.simple_value
      w.join().join();
      break;
    case "image": {
      const { height, width, channels = 1 } = payload.image;
      w.tag(5, WireType.LengthDelimited).fork(); // Event.summary
      w.tag(1, WireType.LengthDelimited).fork(); // Summary.value
      w.tag(1, WireType.LengthDelimited).string(payload.tag); // Value.tag
      w.tag(4, WireType.LengthDelimited).fork(); // Value.image
      w.tag(1, WireType.Varint).int32(height); // Image.height
      w.tag(2, WireType.Varint).int32(width); // Image.width
      w.tag(3, WireType.Varint).int32(COLORSPACE[channels]); // Image.colorspace
      w.tag(4, WireType.LengthDelimited).bytes(imagePng(payload.tag, payload.image)); // Image.encoded_image_string
      w.join().join().join();
      break;
    }
  }
  return w.finish();
}

/**
 * PNG bytes of an 8-bit image, after checking its size.
 *
 * @example
 * ```ts
 * const png = imagePng("slice", { data: new Uint8Array(6), height: 2, width: 3 });
 * ```
 */
export function imagePng(tag: string, image: ImagePixels): Uint8Array {
  const { data, height, width, channels = 1 } = image;
  if (!(channels in COLORSPACE)) throw new Error(`image "${tag}": channels must be 1, 3 or 4, got ${channels}`);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new Error(`image "${tag}": height and width must be positive integers, got ${height}x${width}`);
  }
  if (data.length !== height * width * channels) {
    throw new Error(
      `image "${tag}": ${height}x${width}x${channels} needs ${height * width * channels} bytes, got ${data.length}`,
    );
  }
  return encodePng({
    width,
    height,
    channels,
    depth: 8,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  });
}

/** Options for {@link imageFromValues}. */
export interface ImageFromValuesOptions {
  /** Rows of the slice. */
  readonly height: number;
  /** Columns of the slice. */
  readonly width: number;
  /** Value shown black; the smallest finite value when omitted. */
  readonly min?: number;
  /** Value shown white; the largest finite value when omitted. */
  readonly max?: number;
}

/**
 * Maps a float slice (row-major `height × width`) linearly to an 8-bit grayscale image: `min` → 0, `max` → 255,
 * clipped; NaN → 0. A constant slice becomes black.
 *
 * @example
 * ```ts
 * const img = imageFromValues(new Float32Array([0, 0.5, 1, 2]), { height: 2, width: 2, max: 1 });
 * // img.data = [0, 128, 255, 255]
 * ```
 */
export function imageFromValues(values: ArrayLike<number>, options: ImageFromValuesOptions): ImagePixels {
  const { height, width } = options;
  if (values.length !== height * width) {
    throw new Error(`image values: ${height}x${width} needs ${height * width} values, got ${values.length}`);
  }
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const min = options.min ?? lo, max = options.max ?? hi;
  const scale = max > min ? 255 / (max - min) : 0;
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // Uint8Array assignment would truncate; round and clip explicitly (NaN → 0 through the comparison).
    const s = Math.round((v - min) * scale);
    data[i] = s > 255 ? 255 : s > 0 ? s : 0;
  }
  return { data, height, width, channels: 1 };
}
