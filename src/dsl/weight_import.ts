/**
 * Foreign weights under DSL names. Keras/tfjs layers-model weights are named `<layer>/<weight>` (`21/kernel`);
 * two ways to bring them into a DSL model:
 *
 * - {@link dslNamesForKeras}: rename each weight `<layer>/<role>` with DSL roles (`kernel`→`w`, `bias`→`b`, batch
 *   norm names unchanged), then apply scope mappings (`21/`→`MeshNet/conv_0_relu/conv_/`).
 * - {@link pairWithNetwork}: build the DSL network once and pair its variables, grouped by owning scope in creation
 *   order, with the Keras layers that have weights, in topology order; within a group, by role. Every shape is
 *   checked. This is how `import-weights --network meshnet` maps brainchop's models without a renaming table.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { type NamedTensors, renameTensors, type TfjsLayersModel } from "../weights/mod.ts";
import { applyNetwork, type Layer } from "./layer.ts";
import type { ScopeMapping } from "./restore.ts";
import { VariableStore } from "./variable_store.ts";

// Keras weight names → DSL variable names (NiftyNet's).
const ROLE: Readonly<Record<string, string>> = {
  kernel: "w",
  bias: "b",
  depthwise_kernel: "w",
  gamma: "gamma",
  beta: "beta",
  moving_mean: "moving_mean",
  moving_variance: "moving_variance",
  alpha: "alpha",
};

function splitName(name: string): { layer: string; role: string } {
  const i = name.lastIndexOf("/");
  return { layer: name.slice(0, i), role: name.slice(i + 1).replace(/:0$/, "") };
}

/** Keras weights renamed to DSL roles, then renamed by scope mappings (first matching mapping wins). */
export function dslNamesForKeras(model: TfjsLayersModel, mappings: readonly ScopeMapping[] = []): NamedTensors {
  const renamed: NamedTensors = new Map();
  for (const [name, tensor] of model.weights) {
    const { layer, role } = splitName(name);
    renamed.set(`${layer}/${ROLE[role] ?? role}`, tensor);
  }
  return renameTensors(renamed, mappings);
}

/** The [batch, …spatial, channels] input shape a Keras model declares, with free dims set to `freeSize`. */
export function kerasInputShape(model: TfjsLayersModel, freeSize = 8): number[] {
  const input = model.topology.layers.find((l) => l.className === "InputLayer");
  const declared = (input?.config.batch_input_shape ?? input?.config.batchInputShape) as (number | null)[] | undefined;
  if (!declared) throw new Error("the model declares no InputLayer batch_input_shape; give the input shape explicitly");
  return declared.map((d, i) => (i === 0 ? 1 : i === declared.length - 1 ? d ?? 1 : freeSize));
}

/** One Keras weight matched to one DSL variable. */
export interface WeightPair {
  readonly source: string;
  readonly target: string;
  readonly shape: readonly number[];
}

/**
 * Pairs a Keras model's weights with the variables of a DSL `network` built on `inputShape`; returns the weights
 * under DSL names and the pairing. Refuses (naming both sides) when layer counts, roles or shapes differ.
 */
export function pairWithNetwork(
  model: TfjsLayersModel,
  network: Layer<[tf.Tensor], tf.Tensor>,
  inputShape: readonly number[],
): { tensors: NamedTensors; pairs: WeightPair[] } {
  const store = new VariableStore();
  try {
    tf.tidy(() => {
      applyNetwork(network, [tf.zeros([...inputShape])], { store });
    });
    const groups = new Map<string, Map<string, { path: string; shape: readonly number[] }>>();
    for (const r of store.records()) {
      const parent = r.path.slice(0, r.path.lastIndexOf("/"));
      const group = groups.get(parent) ?? new Map();
      group.set(r.path.slice(parent.length + 1), { path: r.path, shape: r.shape });
      groups.set(parent, group);
    }
    const kerasLayers = model.topology.layers.filter((l) => l.weightNames.length > 0);
    const dslGroups = [...groups.entries()];
    if (kerasLayers.length !== dslGroups.length) {
      throw new Error(
        `the model has ${kerasLayers.length} layers with weights but network "${network.name}" has ` +
          `${dslGroups.length} scopes with variables (${dslGroups.map(([p]) => p).join(", ")})`,
      );
    }
    const tensors: NamedTensors = new Map();
    const pairs: WeightPair[] = [];
    kerasLayers.forEach((layer, i) => {
      const [scopePath, vars] = dslGroups[i];
      if (layer.weightNames.length !== vars.size) {
        throw new Error(
          `layer "${layer.name}" has ${layer.weightNames.length} weights but scope "${scopePath}" has ${vars.size} variables`,
        );
      }
      for (const source of layer.weightNames) {
        const role = splitName(source).role;
        const target = vars.get(ROLE[role] ?? role);
        const tensor = model.weights.get(source)!;
        if (!target) throw new Error(`weight "${source}" (role ${role}) has no counterpart in scope "${scopePath}"`);
        if (target.shape.length !== tensor.shape.length || target.shape.some((d, k) => d !== tensor.shape[k])) {
          throw new Error(
            `weight "${source}" has shape [${tensor.shape}] but "${target.path}" needs [${target.shape}]`,
          );
        }
        tensors.set(target.path, tensor);
        pairs.push({ source, target: target.path, shape: tensor.shape });
      }
    });
    return { tensors, pairs };
  } finally {
    store.dispose();
  }
}
