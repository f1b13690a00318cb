/** A loss plugin for the tests (`loss_type = <this file>`): half the mean squared error, for regression. */
import { tf } from "../src/deps.ts";
import type { LossDefinition } from "../src/losses/mod.ts";

/** Calls made, so a test can tell the plugin ran. */
export const calls = { count: 0 };

/** The plugin's losses. */
export const lossDefinitions: LossDefinition<"regression">[] = [{
  application: "regression",
  name: "HalfL2Plugin",
  create: () => (prediction, target) => {
    calls.count++;
    return tf.tidy(() => tf.mul(0.5, tf.mean(tf.squaredDifference(prediction as tf.Tensor, target))) as tf.Scalar);
  },
}];
