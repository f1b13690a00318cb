/**
 * Learning-rate schedules (NiftyTS `lr_schedule`; NiftyNet itself used a constant `lr`). `iteration` counts the
 * updates already done, so the first update uses `lr`. Matches PyTorch's `StepLR` and `PolynomialLR`.
 * - `constant`: lr
 * - `step`: lr · factor^⌊iteration / every⌋
 * - `poly`: lr · (1 − min(iteration, max_iter) / max_iter)^power
 *
 * @module
 */

/** A schedule and its parameters. */
export type LearningRateSchedule =
  | { readonly kind: "constant"; readonly lr: number }
  | { readonly kind: "step"; readonly lr: number; readonly every: number; readonly factor: number }
  | { readonly kind: "poly"; readonly lr: number; readonly maxIter: number; readonly power: number };

/**
 * The learning rate of the update that follows `iteration` completed updates.
 *
 * @example
 * ```ts
 * import { learningRateAt } from "./schedules.ts";
 * learningRateAt(7, { kind: "step", lr: 0.1, every: 3, factor: 0.5 }); // 0.025
 * ```
 */
export function learningRateAt(iteration: number, schedule: LearningRateSchedule): number {
  switch (schedule.kind) {
    case "constant":
      return schedule.lr;
    case "step":
      return schedule.lr * schedule.factor ** Math.floor(iteration / schedule.every);
    case "poly": {
      if (schedule.maxIter <= 0) return schedule.lr;
      const done = Math.min(iteration, schedule.maxIter) / schedule.maxIter;
      return schedule.lr * (1 - done) ** schedule.power;
    }
  }
}
