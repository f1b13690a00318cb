/**
 * Finding zoo entries by id, with a "did you mean" for typos.
 *
 * @module
 */
import { unknownNameMessage } from "../src/util/suggest.ts";
import { ZOO_ENTRIES } from "./entries.ts";
import type { ZooManifest } from "./manifest.ts";

/** The ids of every entry, in display order. */
export function zooIds(): string[] {
  return ZOO_ENTRIES.map((e) => e.id);
}

/**
 * The entry with this id; an unknown id throws one line with the closest id and the full list.
 *
 * @example
 * ```ts
 * import { getZooEntry } from "./registry.ts";
 * getZooEntry("gwm-light").network.options.channels; // 5
 * ```
 */
export function getZooEntry(id: string): ZooManifest {
  const entry = ZOO_ENTRIES.find((e) => e.id === id);
  if (!entry) throw new Error(unknownNameMessage("zoo entry", id, zooIds()));
  return entry;
}
