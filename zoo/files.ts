/**
 * A file a zoo entry needs (weights, topology, label tables), as published upstream.
 *
 * `path` is relative to the root of a mirror laid out like upstream (`models/<dir>/<file>`), so the same entry
 * resolves against the public URL, a local mirror folder (e.g. `../shared/data/brainchop`) or an HTTP mirror.
 *
 * @module
 */

/** One published file of a zoo entry, with what it must be before anything uses it. */
export interface ZooFile {
  /** Path relative to a mirror root, e.g. `models/model5_gw_ae/model.json`. */
  readonly path: string;
  /** Public download URL. */
  readonly url: string;
  /** Exact size in bytes. */
  readonly bytes: number;
  /** Lower-case hex sha256 of the whole file. */
  readonly sha256: string;
}
