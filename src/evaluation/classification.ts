/**
 * Classification metrics across subjects: accuracy and the area under the ROC curve.
 *
 * @module
 */

/** Fraction of predictions equal to the truth; NaN for no samples. */
export function classificationAccuracy(predicted: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (predicted.length !== truth.length) {
    throw new Error(`classification_accuracy: ${predicted.length} predictions for ${truth.length} labels`);
  }
  let hits = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) hits++;
  return truth.length ? hits / truth.length : NaN;
}

/**
 * Area under the ROC curve of `scores` for binary `truth` (non-zero = positive): the Mann–Whitney statistic with
 * tied scores counted ½, equal to `sklearn.metrics.roc_auc_score`. NaN when only one class is present.
 */
export function rocAuc(scores: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (scores.length !== truth.length) throw new Error(`roc_auc: ${scores.length} scores for ${truth.length} labels`);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  // Average ranks (1-based) over ties.
  let positives = 0, rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (truth[order[k]]) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = scores.length - positives;
  if (!positives || !negatives) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
