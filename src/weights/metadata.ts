/**
 * Structured checkpoint metadata inside safetensors' string-only `__metadata__`: the NiftyTS version, the training
 * iteration, the network name and the full effective config (as JSON text), plus any extra string entries.
 *
 * @module
 */
import { VERSION } from "../version.ts";
import { CheckpointError } from "./errors.ts";
import type { SafetensorsMetadata } from "./safetensors.ts";

/** The structured view of a checkpoint's metadata. Every field is optional when reading foreign files. */
export interface CheckpointInfo {
  /** `niftyts_version`: the NiftyTS version that wrote the file. */
  readonly niftytsVersion?: string;
  /** `iteration`: the training iteration the weights belong to (non-negative integer). */
  readonly iteration?: number;
  /** `network`: the network's registered name (e.g. `highres3dnet`). */
  readonly network?: string;
  /** `config`: the full effective config, any JSON value. */
  readonly config?: unknown;
  /** Every other metadata entry, unchanged. */
  readonly extra?: Readonly<Record<string, string>>;
}

const KNOWN = ["niftyts_version", "iteration", "network", "config"];

/**
 * Builds safetensors metadata from structured values; `niftyts_version` defaults to this NiftyTS version.
 *
 * @example
 * ```ts
 * import { checkpointMetadata } from "./metadata.ts";
 * const metadata = checkpointMetadata({ iteration: 1200, network: "highres3dnet", config: { lr: 1e-3 } });
 * // { niftyts_version: "0.1.0", iteration: "1200", network: "highres3dnet", config: '{"lr":0.001}' }
 * ```
 */
export function checkpointMetadata(info: CheckpointInfo): SafetensorsMetadata {
  const { niftytsVersion = VERSION, iteration, network, config, extra = {} } = info;
  for (const key of Object.keys(extra)) {
    if (KNOWN.includes(key)) throw new Error(`metadata extra key "${key}" clashes with a structured field`);
  }
  if (iteration !== undefined && !(Number.isSafeInteger(iteration) && iteration >= 0)) {
    throw new Error(`metadata iteration must be a non-negative integer, got ${iteration}`);
  }
  const out: SafetensorsMetadata = { niftyts_version: niftytsVersion };
  if (iteration !== undefined) out.iteration = String(iteration);
  if (network !== undefined) out.network = network;
  if (config !== undefined) {
    const text = JSON.stringify(config);
    if (text === undefined) throw new Error("metadata config is not JSON-serialisable");
    out.config = text;
  }
  return { ...out, ...extra };
}

/**
 * Reads structured values back from safetensors metadata. Missing fields stay undefined (foreign files have none);
 * present but malformed ones (`iteration` not an integer, `config` not JSON) are refused naming `source`.
 *
 * @example
 * ```ts
 * import { parseCheckpointMetadata } from "./metadata.ts";
 * const info = parseCheckpointMetadata({ iteration: "7", config: "{\"a\":1}" }, { source: "ckpt.safetensors" });
 * // { iteration: 7, config: { a: 1 }, extra: {} }
 * ```
 */
export function parseCheckpointMetadata(
  metadata: SafetensorsMetadata,
  { source = "checkpoint metadata" }: { source?: string } = {},
): CheckpointInfo {
  const extra: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) if (!KNOWN.includes(key)) extra[key] = value;
  let iteration: number | undefined;
  if (metadata.iteration !== undefined) {
    if (!/^[0-9]+$/.test(metadata.iteration) || !Number.isSafeInteger(Number(metadata.iteration))) {
      throw new CheckpointError(source, `metadata iteration ${JSON.stringify(metadata.iteration)} is not an integer`);
    }
    iteration = Number(metadata.iteration);
  }
  let config: unknown;
  if (metadata.config !== undefined) {
    try {
      config = JSON.parse(metadata.config);
    } catch (error) {
      throw new CheckpointError(source, `metadata config is not valid JSON (${(error as Error).message})`);
    }
  }
  return { niftytsVersion: metadata.niftyts_version, iteration, network: metadata.network, config, extra };
}
