/**
 * Classification, GAN and autoencoder losses with NiftyNet 0.6 semantics (`loss_classification.py`,
 * `loss_gan.py`, `loss_autoencoder.py`).
 *
 * @module
 */
import { tf } from "../deps.ts";
import { type LossParams, numberParam, sigmoidCrossEntropy, sparseSoftmaxCrossEntropy } from "./_util.ts";

/**
 * Classification cross-entropy: logits reshaped to `[M, nClasses]`, labels to `[M]`, mean softmax cross-entropy
 * (averaged again over a list of predictions).
 */
export function classificationCrossEntropy(
  prediction: tf.Tensor | readonly tf.Tensor[],
  groundTruth: tf.Tensor,
  { nClasses }: { nClasses: number },
): tf.Scalar {
  return tf.tidy(() => {
    const labels = tf.reshape(groundTruth, [-1]);
    const predictions = Array.isArray(prediction) ? prediction : [prediction as tf.Tensor];
    const losses = predictions.map((pred) => {
      if (pred.size !== labels.size * nClasses) {
        throw new Error(
          `loss_type CrossEntropy: prediction shape [${pred.shape}] should hold ${nClasses} logits for each of the ` +
            `${labels.size} labels`,
        );
      }
      return tf.mean(sparseSoftmaxCrossEntropy(tf.reshape(tf.cast(pred, "float32"), [-1, nClasses]), labels));
    });
    return tf.mean(tf.stack(losses)) as tf.Scalar;
  });
}

/** Generator and discriminator losses of one GAN step. */
export interface GanLosses {
  generator: tf.Scalar;
  discriminator: tf.Scalar;
}

/** A GAN loss: discriminator logits on real and on generated images → both losses. */
export type GanLoss = (predReal: tf.Tensor, predFake: tf.Tensor) => GanLosses;

/**
 * NiftyNet's GAN `CrossEntropy` with one-sided label softness s (param `softness`, default 0.1): generator =
 * mean xent(fake, 1); discriminator = mean xent(fake, 0) + mean xent(real, 1 − s), xent = sigmoid cross-entropy.
 */
export function ganCrossEntropy(params: LossParams = {}): GanLoss {
  const softness = numberParam(params, "softness", 0.1, "CrossEntropy (gan)");
  return (predReal, predFake) => {
    const generator = tf.tidy(() => tf.mean(sigmoidCrossEntropy(predFake, 1)) as tf.Scalar);
    const discriminator = tf.tidy(() =>
      tf.add(
        tf.mean(sigmoidCrossEntropy(predFake, 0)),
        tf.mean(sigmoidCrossEntropy(predReal, 1 - softness)),
      ) as tf.Scalar
    );
    return { generator, discriminator };
  };
}

/** An autoencoder loss over the network's outputs. */
export type AutoencoderLoss = (outputs: readonly tf.Tensor[]) => tf.Scalar;

/**
 * Negative variational lower bound (Kingma & Welling 2014) for outputs `[posteriorMeans, posteriorLogVar,
 * dataMeans, dataLogVar, originals]` (each `[B, ...]`): mean over the batch of KL − log-likelihood with
 * KL = −½ Σ (1 + logσ² − μ² − σ²) and log-likelihood = −½ Σ (logvar + log 2π + (x − m)² e^(−logvar)).
 */
export function variationalLowerBound(outputs: readonly tf.Tensor[]): tf.Scalar {
  if (outputs.length < 5) {
    throw new Error(
      `loss_type VariationalLowerBound: expected 5 outputs [posterior means, posterior log variances, data means, ` +
        `data log variances, originals], got ${outputs.length}`,
    );
  }
  return tf.tidy(() => {
    const [postMean, postLogVar, dataMean, dataLogVar, originals] = outputs;
    const batch = originals.shape[0];
    const logTwoPi = 1.837877; // NiftyNet's rounded log(2π), kept for identical values
    const nll = tf.add(
      tf.add(dataLogVar, logTwoPi),
      tf.mul(tf.exp(tf.neg(dataLogVar)), tf.square(tf.sub(dataMean, originals))),
    );
    const logLikelihood = tf.mul(-0.5, tf.sum(tf.reshape(nll, [batch, -1]), 1));
    const kl = tf.mul(
      -0.5,
      tf.sum(
        tf.reshape(tf.sub(tf.sub(tf.add(1, postLogVar), tf.square(postMean)), tf.exp(postLogVar)), [batch, -1]),
        1,
      ),
    );
    return tf.mean(tf.sub(kl, logLikelihood)) as tf.Scalar;
  });
}
