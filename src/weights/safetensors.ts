/**
 * The safetensors format (https://github.com/huggingface/safetensors), host-only: an 8-byte little-endian header
 * length N, N bytes of UTF-8 JSON (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}`, padded
 * with spaces to a multiple of 8), then the tensors' little-endian bytes packed without gaps. Files written here
 * open with Python's `safetensors`/`torch`; files written there open here, as long as their dtypes are among ours.
 *
 * The decoder is strict: anything a correct writer never produces (gaps, overlaps, wrong sizes, trailing bytes,
 * non-string metadata) is refused with a message that names the file and the problem.
 *
 * @module
 */
import { fromLittleEndian, holdsDType, ITEM_SIZE, toLittleEndian } from "./_bytes.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { CheckpointError } from "./errors.ts";
import { type HostDType, type NamedTensor, type NamedTensors, sizeOf } from "./named_tensors.ts";

/** Element type names as written in a safetensors header. */
export type SafetensorsDType = "F32" | "F64" | "I32" | "I16" | "I8" | "U8" | "U16" | "BOOL";

/** The free-form `__metadata__` of a safetensors file: string keys to string values only. */
export type SafetensorsMetadata = Record<string, string>;

/** What a safetensors file holds. Tensors come in the order of their data in the file. */
export interface SafetensorsContents {
  readonly tensors: NamedTensors;
  readonly metadata: SafetensorsMetadata;
}

/** Options for {@link encodeSafetensors} and {@link writeSafetensors}. */
export interface EncodeSafetensorsOptions {
  /** Stored as `__metadata__`; values must be strings (see `checkpointMetadata` for structured values). */
  readonly metadata?: SafetensorsMetadata;
}

/** Options for {@link decodeSafetensors}. */
export interface DecodeSafetensorsOptions {
  /** Names the bytes in error messages (usually the file path); default `"safetensors bytes"`. */
  readonly source?: string;
}

const TO_SAFETENSORS: Readonly<Record<HostDType, SafetensorsDType>> = {
  float32: "F32",
  float64: "F64",
  int32: "I32",
  int16: "I16",
  int8: "I8",
  uint8: "U8",
  uint16: "U16",
  bool: "BOOL",
};

const FROM_SAFETENSORS: Readonly<Record<string, HostDType>> = Object.fromEntries(
  Object.entries(TO_SAFETENSORS).map(([host, st]) => [st, host as HostDType]),
);

const METADATA_KEY = "__metadata__";
const encoder = new TextEncoder();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => Number.isSafeInteger(d) && d >= 0);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Checks one tensor before encoding; throws a plain Error naming the tensor (this is a caller bug, not a file). */
function checkTensor(name: string, tensor: NamedTensor): void {
  if (name === "" || name === METADATA_KEY) throw new Error(`cannot save tensor named ${JSON.stringify(name)}`);
  if (!(tensor.dtype in TO_SAFETENSORS)) {
    throw new Error(`cannot save tensor "${name}": unknown dtype ${JSON.stringify(tensor.dtype)}`);
  }
  if (!isShape(tensor.shape)) {
    throw new Error(`cannot save tensor "${name}": shape ${JSON.stringify(tensor.shape)} is not non-negative integers`);
  }
  if (!holdsDType(tensor.data, tensor.dtype)) {
    throw new Error(
      `cannot save tensor "${name}": dtype ${tensor.dtype} but data is a ${tensor.data.constructor.name}`,
    );
  }
  const size = sizeOf(tensor.shape);
  if (tensor.data.length !== size) {
    throw new Error(
      `cannot save tensor "${name}": shape [${
        tensor.shape.join(", ")
      }] needs ${size} elements, data has ${tensor.data.length}`,
    );
  }
  if (tensor.dtype === "bool" && tensor.data.some((v) => v > 1)) {
    throw new Error(`cannot save tensor "${name}": bool data holds values other than 0 and 1`);
  }
}

/**
 * Encodes named tensors as one safetensors file (bytes). Tensors are packed in the map's order.
 *
 * @example
 * ```ts
 * import { encodeSafetensors, decodeSafetensors } from "./safetensors.ts";
 * const tensors = new Map([["net/conv/w", { dtype: "float32" as const, shape: [2], data: new Float32Array([1, 2]) }]]);
 * const bytes = encodeSafetensors(tensors, { metadata: { iteration: "10" } });
 * console.log(decodeSafetensors(bytes).tensors.get("net/conv/w")?.data); // Float32Array [1, 2]
 * ```
 */
export function encodeSafetensors(tensors: NamedTensors, { metadata }: EncodeSafetensorsOptions = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string") {
        throw new Error(`cannot save metadata "${key}": value is ${describe(value)}, expected a string`);
      }
    }
    if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  }
  let offset = 0;
  for (const [name, tensor] of tensors) {
    checkTensor(name, tensor);
    const end = offset + tensor.data.length * ITEM_SIZE[tensor.dtype];
    header[name] = { dtype: TO_SAFETENSORS[tensor.dtype], shape: [...tensor.shape], data_offsets: [offset, end] };
    offset = end;
  }
  const json = encoder.encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  const dataStart = 8 + headerLength;
  for (const [name, tensor] of tensors) {
    const [begin] = (header[name] as { data_offsets: number[] }).data_offsets;
    toLittleEndian(tensor.data, tensor.dtype, out.subarray(dataStart + begin));
  }
  return out;
}

interface HeaderEntry {
  name: string;
  dtype: HostDType;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, value: unknown, fail: (problem: string) => CheckpointError): HeaderEntry {
  if (!isPlainObject(value)) throw fail(`header entry "${name}" is ${describe(value)}, expected an object`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== "string" || !(dtype in FROM_SAFETENSORS)) {
    throw fail(
      `tensor "${name}" has unknown dtype ${JSON.stringify(dtype)} (supported: ${
        Object.keys(FROM_SAFETENSORS).join(", ")
      })`,
    );
  }
  if (!isShape(shape)) {
    throw fail(`tensor "${name}" has shape ${JSON.stringify(shape)}, expected a list of non-negative integers`);
  }
  if (!isShape(offsets) || offsets.length !== 2 || offsets[0] > offsets[1]) {
    throw fail(`tensor "${name}" has data_offsets ${JSON.stringify(offsets)}, expected [begin, end] with begin ≤ end`);
  }
  const host = FROM_SAFETENSORS[dtype];
  const need = sizeOf(shape) * ITEM_SIZE[host];
  const [begin, end] = offsets;
  if (end - begin !== need) {
    throw fail(
      `tensor "${name}" has ${end - begin} bytes (data_offsets [${begin}, ${end}]) but shape [${
        shape.join(", ")
      }] of ${dtype} needs ${need}`,
    );
  }
  return { name, dtype: host, shape, begin, end };
}

function parseMetadata(value: unknown, fail: (problem: string) => CheckpointError): SafetensorsMetadata {
  if (!isPlainObject(value)) throw fail(`__metadata__ is ${describe(value)}, expected an object of strings`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") throw fail(`__metadata__ value "${key}" is ${describe(v)}, expected a string`);
  }
  return { ...(value as SafetensorsMetadata) };
}

/**
 * Decodes a safetensors file's bytes. Refuses, with a {@link CheckpointError} naming `source` and the problem, every
 * malformed file: too short, header length past the end, header not UTF-8 JSON, unknown dtype, byte size not
 * matching the shape, offsets past the end (truncated file), overlapping, leaving gaps or trailing bytes, and
 * non-string metadata. The returned arrays are copies (they never alias `bytes`).
 *
 * @example
 * ```ts
 * import { decodeSafetensors } from "./safetensors.ts";
 * const { tensors, metadata } = decodeSafetensors(await Deno.readFile("model.safetensors"), { source: "model.safetensors" });
 * ```
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  { source = "safetensors bytes" }: DecodeSafetensorsOptions = {},
): SafetensorsContents {
  const fail = (problem: string) => new CheckpointError(source, problem);
  if (bytes.length < 8) throw fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    throw fail(`header length ${headerLength} runs past the end of the file (${bytes.length - 8} bytes follow it)`);
  }
  const dataStart = 8 + Number(headerLength);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    throw fail("header is not valid UTF-8");
  }
  if (!text.startsWith("{")) throw fail(`header does not start with "{" (got ${JSON.stringify(text.slice(0, 20))})`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw fail(`header is not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(header)) throw fail(`header is ${describe(header)}, expected an object`);

  let metadata: SafetensorsMetadata = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = parseMetadata(value, fail);
    else entries.push(parseEntry(name, value, fail));
  }

  // Order by position in the data buffer: that is the writer's order, and JSON objects do not keep key order for
  // integer-like names.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataLength = bytes.length - dataStart;
  let covered = 0;
  let previous: HeaderEntry | undefined;
  for (const entry of entries) {
    if (entry.begin < covered) {
      throw fail(
        `tensors "${previous!.name}" [${previous!.begin}, ${
          previous!.end
        }] and "${entry.name}" [${entry.begin}, ${entry.end}] overlap`,
      );
    }
    if (entry.begin > covered) {
      const where = previous ? `after tensor "${previous.name}"` : "at the start of the data";
      throw fail(`${entry.begin - covered} bytes ${where} are not covered by any tensor (gap before "${entry.name}")`);
    }
    if (entry.end > dataLength) {
      throw fail(
        `tensor "${entry.name}" data_offsets [${entry.begin}, ${entry.end}] run past the end of the data (${dataLength} bytes): file truncated`,
      );
    }
    covered = entry.end;
    previous = entry;
  }
  if (covered < dataLength) {
    throw fail(`${dataLength - covered} trailing bytes after the last tensor are not covered by any tensor`);
  }

  const tensors: NamedTensors = new Map();
  for (const { name, dtype, shape, begin, end } of entries) {
    tensors.set(name, {
      dtype,
      shape,
      data: fromLittleEndian(bytes.subarray(dataStart + begin, dataStart + end), dtype),
    });
  }
  return { tensors, metadata };
}

/** `node:url` is loaded on first use, so a browser bundle of the library links without Node's modules. */
async function pathString(path: string | URL): Promise<string> {
  return path instanceof URL ? (await import("node:url")).fileURLToPath(path) : path;
}

/**
 * Writes named tensors to a safetensors file atomically: the bytes are encoded first (a bad tensor never touches
 * the disk), written to a temporary file in the same folder, flushed, then renamed over `path`.
 *
 * @example
 * ```ts
 * import { writeSafetensors } from "./safetensors.ts";
 * const w = { dtype: "float32" as const, shape: [3], data: new Float32Array([1, 2, 3]) };
 * await writeSafetensors("ckpt.safetensors", new Map([["net/w", w]]), { metadata: { iteration: "100" } });
 * ```
 */
export async function writeSafetensors(
  path: string | URL,
  tensors: NamedTensors,
  options: EncodeSafetensorsOptions = {},
): Promise<void> {
  await writeFileAtomic(await pathString(path), encodeSafetensors(tensors, options));
}

/**
 * Reads and decodes a safetensors file; see {@link decodeSafetensors} for what is refused.
 *
 * @example
 * ```ts
 * import { readSafetensors } from "./safetensors.ts";
 * const { tensors, metadata } = await readSafetensors("ckpt.safetensors");
 * ```
 */
export async function readSafetensors(path: string | URL): Promise<SafetensorsContents> {
  const source = await pathString(path);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new CheckpointError(source, "file not found");
    throw error;
  }
  return decodeSafetensors(bytes, { source });
}
