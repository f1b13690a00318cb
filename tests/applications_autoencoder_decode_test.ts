import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import "../src/applications/mod.ts";
import { findApplication } from "../src/engine/application.ts";
import { runAction } from "../src/engine/mod.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { readImage, writeNifti } from "../src/io/mod.ts";
import { isCodeDecodingNetwork, VAE, type VAEOptions, type VAEOutput } from "../networks/vae.ts";
import { readTrainingCheckpoint } from "../src/engine/checkpoints.ts";
import { fromBatchData } from "../src/data/mod.ts";
import { assertClose, assertThrows } from "./_util.ts";
import { collector, discData, TEST_AFFINE, testImage, writeConfig } from "./_applications_data.ts";
import { assertRejectsMatching, inferredRows } from "./_applications_checks.ts";

await useBackend("cpu");

const SMALL: VAEOptions = {
  convOutputChannels: [4, 8],
  convKernelSizes: [3, 3],
  convPoolingFactors: [2, 2],
  actiFuncConv: ["selu", "selu"],
  layerSizesEncoder: [16],
  actiFuncEncoder: ["selu"],
  numberOfLatentVariables: 4,
  layerSizesDecoderShared: [8],
  actiFuncDecoderShared: ["selu"],
};

/** Forward pass, then the decoder on the pass's sample; returns max |difference| of means and log-variances. */
function decodeGap(options: VAEOptions, batchShape: number[]): { means: number; logvars: number; created: number } {
  const vae = new VAE(options);
  const store = new VariableStore({ seed: 3 });
  const gap = tf.tidy(() => {
    const images = tf.randomUniform(batchShape, 0, 1, "float32", 5);
    const out = applyNetwork(vae, [images], { store, training: false }) as VAEOutput;
    const before = store.records().length;
    const decoded = applyNetwork(vae.decoder(batchShape.slice(1)), [out.sample], { store, training: false });
    const diff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    return {
      means: diff(decoded.dataMeans, out.dataMeans),
      logvars: diff(decoded.dataLogvars, out.dataLogvars),
      created: store.records().length - before,
    };
  });
  store.dispose();
  return gap;
}

Deno.test("vae decoder applied to the VAE's store decodes a forward pass's sample to exactly its data means and log-variances (2D, 3D, no shared decoder, custom name), creating no variable", () => {
  const before = tf.memory().numTensors;
  for (
    const [options, shape] of [
      [SMALL, [2, 8, 8, 1]],
      [SMALL, [2, 4, 8, 4, 2]],
      [{ ...SMALL, layerSizesDecoderShared: [], actiFuncDecoderShared: [] }, [3, 8, 4, 1]],
      [{ ...SMALL, name: "MyVAE" }, [1, 4, 4, 1]],
    ] as const
  ) {
    const gap = decodeGap(options, [...shape]);
    assertEquals(gap, { means: 0, logvars: 0, created: 0 }, `${JSON.stringify(options)} ${shape}`);
  }
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("vae decoder reuses the trained decoder paths and rejects codes of the wrong length and image shapes the pooling does not divide", () => {
  const vae = new VAE(SMALL);
  assert(isCodeDecodingNetwork(vae));
  assert(!isCodeDecodingNetwork({ name: "x" }) && !isCodeDecodingNetwork(null));
  const decoder = vae.decoder([8, 8, 1]);
  assertEquals([decoder.name, decoder.latentSize, decoder.imageShape], ["VAE", 4, [8, 8, 1]]);
  const store = new VariableStore({ seed: 1 });
  tf.tidy(() => void applyNetwork(decoder, [tf.zeros([2, 4])], { store }));
  const paths: string[] = store.records().map((r) => r.path);
  assert(paths.includes("VAE/FCDecoder/FCDecoder_fc_8_bn_selu/fc_/w"), paths.join(" "));
  assert(paths.includes("VAE/ConvDecoder_means/decoder_upsampler_2_2_bn/deconv_/w"), paths.join(" "));
  assert(paths.includes("VAE/ConvDecoder_logvars/decoder_trans_conv_3_1_bn/deconv_/b"), paths.join(" "));
  assert(paths.every((p) => !p.includes("ConvEncoder") && !p.includes("gaussian_sampler")), "decoder only");
  assertThrows(() => applyNetwork(decoder, [tf.zeros([2, 5])], { store }), "expected codes of shape [N, 4], got [2,5]");
  assertThrows(() => vae.decoder([6, 8, 1]), "divisible by the total pooling factor 4");
  store.dispose();
});

const ROOT = new URL(".", import.meta.url).pathname;
const TINY_VAE = join(ROOT, "_applications_tiny_vae.ts");

function autoencoderConfig(dir: string) {
  return writeConfig(dir, {
    images: { path_to_search: "data", filename_contains: "img", spatial_window_size: "(8, 8, 1)" },
    codes: { csv_file: "codes.csv" },
    codes_nii: { path_to_search: "codes_nii" },
    SYSTEM: { model_dir: "model", random_seed: 4 },
    NETWORK: { name: "vae", batch_size: 2, window_sampling: "resize" },
    TRAINING: { max_iter: 2, save_every_n: 0, lr: 0.0001, exclude_fraction_for_inference: 0.5 },
    AUTOENCODER: { image: "images", feature: "codes", inference_type: "encode", n_interpolations: 3 },
  });
}

/** `inferred.csv` of the output folder as name → path. */
async function listing(dir: string): Promise<Map<string, string>> {
  return new Map((await inferredRows(dir)).map((row) => row.split(",") as [string, string]));
}

async function voxels(path: string): Promise<Float32Array> {
  return Float32Array.from((await readImage(path)).data as ArrayLike<number>);
}

Deno.test("autoencoder sample and linear_interpolation: the trained VAE's decoder writes NiftyNet-named NIfTI on the window grid; interpolation ends decode the paired codes; CSV and NIfTI codes agree", async () => {
  assertEquals(findApplication("autoencoder")?.section, "AUTOENCODER");
  const dir = await Deno.makeTempDir();
  await discData(dir, 4, [10, 12]);
  const config = await autoencoderConfig(dir);
  const before = tf.memory().numTensors;
  const { log } = collector();
  await runAction("train", config, [], { log, handleSignals: false });
  await runAction("infer", config, [], { log });
  const encoded = join(dir, "model", "output", "inferred.csv");
  await Deno.copyFile(encoded, join(dir, "codes.csv"));
  const codes = (await Deno.readTextFile(encoded)).trim().split("\n").map((r) => r.split(","));
  const [a, b] = codes.map((r) => r[0]);
  assertEquals(codes.length, 2);

  // sample: batch_size codes from N(0, noise_stddev²), decoded to the training window size.
  await runAction("infer", config, ["--inference_type", "sample", "--noise_stddev", "1"], { log });
  const samples = await listing(dir);
  assertEquals([...samples.keys()], ["sample_0", "sample_1"]);
  const drawn: Float32Array[] = [];
  for (const path of samples.values()) {
    const image = await readImage(path);
    assertEquals(image.shape, [8, 8, 1, 1, 1]);
    assertEquals(image.affine, TEST_AFFINE);
    const v = await voxels(path);
    assert(v.every((x) => Number.isFinite(x) && x >= 0 && x <= 1), "sigmoid means");
    drawn.push(v);
  }
  assert(drawn[0].some((x, i) => x !== drawn[1][i]), "two different draws");

  // linear_interpolation: each code with the other one, m = 0, 0.5, 1 → <k>_<x>_<y>.
  await runAction("infer", config, ["--inference_type", "linear_interpolation"], { log });
  const lines = await listing(dir);
  const names = [0, 1, 2].flatMap((k) => [`${k}_${a}_${b}`, `${k}_${b}_${a}`]).sort();
  assertEquals([...lines.keys()].sort(), names);
  const image = await readImage(lines.get(`1_${a}_${b}`)!);
  assertEquals([image.shape, image.affine], [[8, 8, 1, 1, 1], TEST_AFFINE]);
  const out = new Map<string, Float32Array>();
  for (const [name, path] of lines) out.set(name, await voxels(path));
  assert([...out.values()].every((v) => v.every(Number.isFinite)));
  // m = 0 is y and m = 1 is x: the two pairs' ends decode the same codes; the midpoints coincide.
  assertEquals(out.get(`0_${a}_${b}`), out.get(`2_${b}_${a}`));
  assertEquals(out.get(`2_${a}_${b}`), out.get(`0_${b}_${a}`));
  assertEquals(out.get(`1_${a}_${b}`), out.get(`1_${b}_${a}`));
  assert(out.get(`0_${a}_${b}`)!.some((x, i) => x !== out.get(`2_${a}_${b}`)![i]), "different codes decode apart");
  // Which end is which (NiftyNet: m·x + (1 − m)·y, m from 0): decode the codes here with the checkpoint's weights.
  const checkpoint = await readTrainingCheckpoint(join(dir, "model"), 2);
  const store = new VariableStore({ seed: 1 });
  const decoder = new VAE().decoder([8, 8, 1]);
  const z = tf.tensor2d(codes.map((r) => r.slice(1).map(Number)));
  tf.tidy(() => void applyNetwork(decoder, [z], { store }));
  store.assignFrom(checkpoint.tensors);
  const decoded = tf.tidy(() => applyNetwork(decoder, [z], { store }).dataMeans);
  const [decodedA, decodedB] = fromBatchData(decoded.dataSync(), decoded.shape);
  assertClose(out.get(`0_${a}_${b}`)!, decodedB.data, { what: "m = 0 decodes y" });
  assertClose(out.get(`2_${a}_${b}`)!, decodedA.data, { what: "m = 1 decodes x" });
  tf.dispose([z, decoded]);
  store.dispose();

  // NiftyNet's feature files: one NIfTI code per subject gives the same images.
  await Deno.mkdir(join(dir, "codes_nii"));
  for (const [id, ...z] of codes) {
    await writeNifti(join(dir, "codes_nii", `${id}.nii.gz`), testImage(Float32Array.from(z, Number), [z.length, 1]));
  }
  await runAction("infer", config, ["--inference_type", "linear_interpolation", "--feature", "codes_nii"], { log });
  for (const [name, path] of await listing(dir)) assertEquals(await voxels(path), out.get(name), name);
  assertEquals(tf.memory().numTensors, before);

  // Clear errors, before anything is written.
  await assertRejectsMatching(
    () => runAction("infer", config, ["--inference_type", "sample"], { log }),
    /noise_stddev > 0/,
  );
  await assertRejectsMatching(
    () =>
      runAction("infer", config, ["--inference_type", "sample", "--noise_stddev", "1", "--name", TINY_VAE], { log }),
    /decodes latent codes, but network ".*_applications_tiny_vae.ts" has no decoder\(imageShape\)/,
  );
  await Deno.writeTextFile(join(dir, "codes.csv"), `${a},${codes[0].slice(1).join(",")}\n`);
  await assertRejectsMatching(
    () => runAction("infer", config, ["--inference_type", "linear_interpolation"], { log }),
    /needs at least 2 codes to pair, found 1/,
  );
  await Deno.writeTextFile(join(dir, "codes.csv"), `${a},1,2\n${b},3,4\n`);
  await assertRejectsMatching(
    () => runAction("infer", config, ["--inference_type", "linear_interpolation"], { log }),
    /the code of "case\d" has 2 values, the network's latent size is 64/,
  );
  await assertRejectsMatching(
    () =>
      runAction("infer", config, ["--inference_type", "linear_interpolation", "--codes.csv_file", encoded], { log }),
    /is the inferred.csv this inference rewrites/,
  );
  assertEquals(tf.memory().numTensors, before);
  await Deno.remove(dir, { recursive: true });
});
