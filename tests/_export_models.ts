/** Loading exported models with their reference runtimes, for the export tests. */
import { join } from "node:path";
import { type loadTfjsUnion, tf } from "../src/deps.ts";
import { loadOnnxRuntime } from "../src/deps_deno.ts";
import { readImage } from "../src/io/mod.ts";

export type Tfl = Awaited<ReturnType<typeof loadTfjsUnion>>;
export type LayersModel = Awaited<ReturnType<Tfl["loadLayersModel"]>>;

/** tfjs-layers' own loader over a model.json on disk (shards concatenated as its http/file loaders do). */
export async function loadWithTfjsLayers(tfl: Tfl, modelJson: string, freeInput = false): Promise<LayersModel> {
  const json = JSON.parse(await Deno.readTextFile(modelJson));
  if (freeInput) {
    const layers = json.modelTopology.model_config.config.layers;
    const input = layers.find((l: { class_name: string }) => l.class_name === "InputLayer");
    input.config.batch_input_shape = [null, null, null, null, input.config.batch_input_shape.at(-1)];
  }
  const folder = modelJson.slice(0, modelJson.lastIndexOf("/"));
  const group = json.weightsManifest[0];
  const shards = await Promise.all(group.paths.map((p: string) => Deno.readFile(join(folder, p))));
  const bytes = new Uint8Array(shards.reduce((n: number, s: Uint8Array) => n + s.length, 0));
  let offset = 0;
  for (const s of shards) {
    bytes.set(s, offset);
    offset += s.length;
  }
  return await tfl.loadLayersModel(tfl.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: group.weights,
    weightData: bytes.buffer,
  }));
}

/** onnxruntime-node, or the reason it cannot run here (the ONNX checks skip then). */
export async function onnxRuntime(): Promise<{ ort?: Awaited<ReturnType<typeof loadOnnxRuntime>>; reason?: string }> {
  try {
    const ort = await loadOnnxRuntime();
    return { ort };
  } catch (e) {
    return { reason: `onnxruntime-node does not load: ${(e as Error).message}` };
  }
}

/** Runs an ONNX model on `x` with onnxruntime; returns the output as a tensor. */
export async function runOnnx(
  ort: Awaited<ReturnType<typeof loadOnnxRuntime>>,
  bytes: Uint8Array,
  x: tf.Tensor,
): Promise<tf.Tensor> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const result = await session.run({ input: new ort.Tensor("float32", x.dataSync() as Float32Array, [...x.shape]) });
    const y = result[session.outputNames[0]];
    return tf.tensor(y.data as Float32Array, [...y.dims]);
  } finally {
    await session.release();
  }
}

/** A `size`³ block from the middle of brainchop's conformed T1, min-max normalised as brainchop does. */
export async function t1Block(path: string, size = 40): Promise<tf.Tensor> {
  const t1 = await readImage(path);
  const [nx, ny, nz] = t1.shape;
  return tf.tidy(() => {
    const volume = tf.tensor3d(Float32Array.from(t1.data as ArrayLike<number>), [nz, ny, nx]).transpose([2, 1, 0]);
    const block = tf.slice(volume, [108, 108, 108], [size, size, size]);
    return tf.div(tf.sub(block, block.min()), tf.sub(block.max(), block.min())).reshape([1, size, size, size, 1]);
  });
}

/** Largest absolute difference of two tensors. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}
