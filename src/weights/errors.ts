/**
 * The one error type of the checkpoint module, so callers can tell "this file is bad" from programming errors.
 *
 * @module
 */

/**
 * A checkpoint or weight file that cannot be read or written. The message always names the file (or the bytes'
 * source) and the problem, e.g. `cannot read "model.safetensors": header length 912 runs past the end of the file`.
 *
 * @example
 * ```ts
 * import { CheckpointError } from "./errors.ts";
 * const e = new CheckpointError("w.safetensors", "file is 3 bytes, shorter than the 8-byte header length");
 * console.log(e.message); // cannot read "w.safetensors": file is 3 bytes, shorter than the 8-byte header length
 * ```
 */
export class CheckpointError extends Error {
  /** The file path or description of the bytes that failed. */
  readonly source: string;
  /** The problem alone, without the `cannot read "…":` prefix. */
  readonly problem: string;

  constructor(source: string, problem: string, { verb = "read" }: { verb?: "read" | "write" } = {}) {
    super(`cannot ${verb} ${JSON.stringify(source)}: ${problem}`);
    this.name = "CheckpointError";
    this.source = source;
    this.problem = problem;
  }
}
