/**
 * `cli.ts graph <network>`: build a registered (or plugin) network on an input shape, print its parameter count
 * and write graph.json, graph.html and a TensorBoard event file.
 *
 * @module
 */
import { recordGraph } from "../dsl/mod.ts";
import { writeGraphFiles } from "../viz/mod.ts";
import { getNetwork, resolveNetwork } from "../../networks/mod.ts";
import { isModuleReference } from "../util/plugin.ts";

/** Options of {@link graphCommand}. */
export interface GraphCommandOptions {
  readonly inputShape: readonly number[];
  readonly out: string;
  readonly numClasses?: number;
  /** Noise vector length for GANs (they take `[batch, noise]` noise and the images); default 100. */
  readonly noiseSize?: number;
}

/** Parses `1,32,32,32,1` into a shape, naming the option on error. */
export function parseShape(text: string, option = "--input-shape"): number[] {
  const dims = text.split(",").map((s) => Number(s.trim()));
  if (dims.length < 3 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`${option} "${text}": expected comma-separated positive integers such as 1,32,32,32,1`);
  }
  return dims;
}

/** Records the network graph, writes the three files and returns the lines to print. */
export async function graphCommand(network: string, options: GraphCommandOptions): Promise<string[]> {
  const factory = await resolveNetwork(network);
  const net = factory({ numClasses: options.numClasses ?? 2 });
  // A GAN takes noise and images: the noise batch follows the images'.
  const gan = !isModuleReference(network) && getNetwork(network).outputKind === "gan";
  const inputShapes = gan
    ? [[options.inputShape[0], options.noiseSize ?? 100], options.inputShape]
    : [options.inputShape];
  let graph;
  try {
    graph = recordGraph(net, inputShapes);
  } catch (e) {
    const what = gan ? `noise [${inputShapes[0]}] and images [${options.inputShape}]` : `input [${options.inputShape}]`;
    throw new Error(`cannot build ${network} on ${what}: ${(e as Error).message}`);
  }
  const files = await writeGraphFiles(graph, options.out);
  const count = (graph.root.children ?? []).length;
  return [
    `${graph.network}: ${graph.parameters} parameters (${graph.trainableParameters} trainable), ` +
    `input ${inputShapes.map((s) => `[${s}]`).join(" + ")} → output ${
      graph.outputShapes.map((s) => `[${s}]`).join(" + ")
    }, ` +
    `${count} top-level scopes`,
    `wrote ${files.json}`,
    `wrote ${files.html}`,
    `wrote ${files.events} (tensorboard --logdir ${options.out})`,
  ];
}
