/**
 * A one-line progress report for long loops: iteration, loss, iterations per second and time left.
 *
 * @module
 */

/** Formats seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** Tracks a loop of `total` iterations and formats progress lines. */
export class Progress {
  readonly #start: number;
  readonly #now: () => number;
  readonly #first: number;

  /** `first`: iterations already done when the loop starts (a resumed run), excluded from the rate. */
  constructor(
    readonly total: number,
    { now = () => performance.now(), first = 0 }: { now?: () => number; first?: number } = {},
  ) {
    this.#now = now;
    this.#start = now();
    this.#first = first;
  }

  /** `iter 12/40  loss 0.4312  3.1 it/s  ETA 9s` after `done` iterations. */
  line(done: number, values: Readonly<Record<string, number>> = {}): string {
    const elapsed = (this.#now() - this.#start) / 1000;
    const rate = elapsed > 0 ? (done - this.#first) / elapsed : 0;
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    const shown = Object.entries(values).map(([k, v]) => `${k} ${v.toFixed(4)}`);
    return [`iter ${done}/${this.total}`, ...shown, `${rate.toFixed(2)} it/s`, `ETA ${formatDuration(eta)}`].join("  ");
  }
}
