/**
 * Early stopping on the validation loss, after NiftyNet's `EarlyStopper`: it looks at the last `patience`
 * validation losses once that many exist. We read them as losses (lower is better) and stop when the newest one
 * fails to improve on the window:
 * - `mean` / `median` / `robust_mean`: newest ≥ the mean / median / mean within the 5th–95th percentiles of the
 *   `patience − 1` before it;
 * - `generalisation_loss`: newest / min(before) − 1 > 0.2.
 * NiftyNet's other modes (`std`, `robust_std`, `median_smoothing`, `validation_up`) are not supported yet.
 *
 * @module
 */

/** Early-stopping modes we implement. */
export const EARLY_STOPPING_MODES = ["mean", "median", "robust_mean", "generalisation_loss"] as const;

/** Whether training should stop given the validation losses so far (oldest first). */
export function shouldStopEarly(history: readonly number[], { patience, mode }: {
  patience: number;
  mode: string;
}): boolean {
  if (!(EARLY_STOPPING_MODES as readonly string[]).includes(mode)) {
    throw new Error(
      `early_stopping_mode "${mode}" is not supported yet (supported: ${EARLY_STOPPING_MODES.join(", ")})`,
    );
  }
  if (patience < 2 || history.length < patience) return false;
  const window = history.slice(-patience);
  const newest = window[window.length - 1], before = window.slice(0, -1);
  switch (mode) {
    case "mean":
      return newest >= mean(before);
    case "median":
      return newest >= median(before);
    case "robust_mean": {
      const lo = percentile(before, 5), hi = percentile(before, 95);
      const kept = before.filter((v) => v > lo && v < hi);
      return newest >= mean(kept.length ? kept : before);
    }
    default:
      return newest / Math.min(...before) - 1 > 0.2;
  }
}

function mean(v: readonly number[]): number {
  return v.reduce((a, b) => a + b, 0) / v.length;
}

function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// numpy's default (linear) percentile.
function percentile(v: readonly number[], q: number): number {
  const s = [...v].sort((a, b) => a - b);
  const pos = (s.length - 1) * q / 100, lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
