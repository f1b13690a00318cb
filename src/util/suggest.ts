/**
 * "Did you mean" suggestions for unknown names (config keys, network names, loss types…).
 *
 * @module
 */

/** Levenshtein edit distance between two strings. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/** The closest candidate (case-insensitive), when it is close enough to be a plausible typo. */
export function closestMatch(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined, bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= Math.max(3, Math.floor(name.length / 3)) ? best : undefined;
}

/** `unknown <what> "x"; did you mean "y"? (known: a, b, c)` */
export function unknownNameMessage(what: string, name: string, candidates: readonly string[]): string {
  const guess = closestMatch(name, candidates);
  return `unknown ${what} "${name}"` + (guess ? `; did you mean "${guess}"?` : "") +
    ` (known: ${[...candidates].sort().join(", ")})`;
}
