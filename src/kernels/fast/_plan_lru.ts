/**
 * The cache every oneDNN plan kind uses: built objects by key, least recently used destroyed first once over capacity.
 * A build that throws (oneDNN rejecting a geometry) is remembered as null, so it is not retried on every call.
 *
 * @module
 */

/** Built oneDNN objects (each with its own `destroy`) by key, in least-recently-used order. */
export class PlanLru<T extends { destroy(): void }> {
  readonly #capacity: number;
  readonly #entries = new Map<string, T | null>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The object for `key`, built by `build` on first use; null when its build threw. */
  get(key: string, build: () => T): T | null {
    if (this.#entries.has(key)) {
      const entry = this.#entries.get(key)!;
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      return entry;
    }
    let entry: T | null = null;
    try {
      entry = build();
    } catch {
      entry = null;
    }
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#capacity) {
      const [oldest, old] = this.#entries.entries().next().value!;
      old?.destroy();
      this.#entries.delete(oldest);
    }
    return entry;
  }

  /** The cached objects with their keys (rejected geometries left out). */
  *built(): IterableIterator<[string, T]> {
    for (const [key, entry] of this.#entries) if (entry !== null) yield [key, entry];
  }

  /** Destroys every cached object. */
  clear(): void {
    this.#entries.forEach((entry) => entry?.destroy());
    this.#entries.clear();
  }
}
