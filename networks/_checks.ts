/**
 * Input checks shared by the networks: each network validates its input shape before any tensor work and
 * explains what it expected.
 *
 * @module
 */

/** Throws unless `shape` is [batch, …spatial, channels] with one of the allowed spatial ranks. */
export function checkInputRank(network: string, shape: readonly number[], ranks: readonly (2 | 3)[]): 2 | 3 {
  const rank = shape.length - 2;
  if (!(ranks as readonly number[]).includes(rank)) {
    const expected = ranks.map((r) => r === 3 ? "3D [batch, x, y, z, channels]" : "2D [batch, x, y, channels]");
    throw new Error(`${network}: expected a ${expected.join(" or ")} input, got [${shape}]`);
  }
  return rank as 2 | 3;
}

/** Throws unless every spatial size of `shape` is divisible by `divisor`. */
export function checkDivisible(network: string, shape: readonly number[], divisor: number, why: string): void {
  const spatial = shape.slice(1, -1);
  if (spatial.some((n) => n % divisor !== 0)) {
    throw new Error(`${network}: every spatial size must be divisible by ${divisor} (${why}), got [${spatial}]`);
  }
}
