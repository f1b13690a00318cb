/**
 * Seeded pseudo-random numbers for initializers. Each variable draws from its own stream, seeded from the global
 * seed and its path, so adding a layer never changes how the others are initialized. Hand-written (a few lines of
 * the public-domain splitmix32/mulberry32 recipe) because tfjs's own seeded ops seed per call, not per name.
 *
 * @module
 */

/** 32-bit FNV-1a hash of a string. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A deterministic stream of uniform and normal variates. */
export class RandomStream {
  #state: number;
  #spare: number | undefined;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A stream seeded by a global seed and a name (e.g. a variable path). */
  static forName(seed: number, name: string): RandomStream {
    return new RandomStream(hashString(`${seed}:${name}`));
  }

  /** Uniform in [0, 1) with 32 bits of randomness. */
  uniform(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box–Muller, polar form not needed at these volumes). */
  normal(): number {
    if (this.#spare !== undefined) {
      const s = this.#spare;
      this.#spare = undefined;
      return s;
    }
    const u = 1 - this.uniform(), v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Standard normal truncated to [−2, 2] by rejection, as TensorFlow's truncated_normal. */
  truncatedNormal(): number {
    for (;;) {
      const z = this.normal();
      if (Math.abs(z) <= 2) return z;
    }
  }
}
