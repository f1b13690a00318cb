/**
 * The zoo's manifests: the agreed ids, schema validation, did-you-mean, and every fact a manifest states (file
 * sizes and sha256, label names and colours, the network's layer list) against brainchop's own files in the
 * local mirror (../shared/data/brainchop, skipped when absent).
 */
import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert/strict";
import { getZooEntry, validateManifest, ZOO_ENTRIES, zooIds } from "../zoo/mod.ts";

const MIRROR = new URL("../../shared/data/brainchop/", import.meta.url);
const present = (() => {
  try {
    return Deno.statSync(new URL("SHA256SUMS", MIRROR)).isFile;
  } catch {
    return false;
  }
})();
if (!present) console.warn(`zoo manifest checks against the mirror skipped: ${MIRROR.pathname} is absent`);

Deno.test("the zoo has exactly the 12 agreed entry ids", () => {
  assertEquals(zooIds().sort(), [
    "aparc104",
    "aparc50",
    "brain-extract-fast",
    "brain-extract-high-acc",
    "brain-mask-fast",
    "brain-mask-high-acc",
    "gwm-high-acc",
    "gwm-light",
    "mindgrab",
    "subcortical-gwm",
    "subcortical-gwm-failsafe",
    "subcortical-gwm-light",
  ]);
});

Deno.test("an unknown zoo id fails with one line suggesting the closest id", () => {
  assertThrows(() => getZooEntry("aparc-104"), /unknown zoo entry "aparc-104"; did you mean "aparc104"\?/);
  assertThrows(() => getZooEntry("gwm-lite"), /did you mean "gwm-light"/);
});

Deno.test("a broken manifest is refused naming the entry and the key", () => {
  const good = structuredClone(getZooEntry("gwm-light")) as unknown as Record<string, Record<string, unknown>>;
  assertThrows(
    () => validateManifest({ ...good, input: { ...good.input, crop: { threshold: 2, padding: 0 } } }),
    /zoo entry "gwm-light": input\.crop\.threshold:/,
  );
  const wrongSha = structuredClone(good);
  (wrongSha.weights.files as { sha256: string }[])[0].sha256 = "abc";
  assertThrows(() => validateManifest(wrongSha), /weights\.files\.0\.sha256: expected 64 lower-case hex digits/);
  const fewLabels = structuredClone(good);
  (fewLabels.output.labels as unknown[]).pop();
  assertThrows(() => validateManifest(fewLabels), /output\.labels has 2 names but 3 are needed/);
});

Deno.test("pre-models name existing entries and every weight URL is brainchop's public one", () => {
  for (const e of ZOO_ENTRIES) {
    if (e.input.preModel) assert(zooIds().includes(e.input.preModel), e.id);
    for (const f of e.weights.files) {
      assertEquals(f.url, `https://raw.githubusercontent.com/neuroneural/brainchop/master/public/${f.path}`);
    }
  }
});

Deno.test({
  name: "every zoo file's size and sha256 match the mirror's file and SHA256SUMS",
  ignore: !present,
  fn: async () => {
    const sums = new Map(
      Deno.readTextFileSync(new URL("SHA256SUMS", MIRROR)).trim().split("\n").map((l) => {
        const [hash, path] = l.split(/\s+/);
        return [path.replace(/^\.\//, ""), hash];
      }),
    );
    for (const e of ZOO_ENTRIES) {
      for (const f of e.weights.files) {
        const bytes = await Deno.readFile(new URL(f.path, MIRROR));
        assertEquals(bytes.length, f.bytes, f.path);
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
        assertEquals([...digest].map((b) => b.toString(16).padStart(2, "0")).join(""), f.sha256, f.path);
        assertEquals(sums.get(f.path), f.sha256, f.path);
      }
    }
  },
});

interface KerasLayer {
  class_name: string;
  config: { name: string; filters?: number; dilation_rate?: number[]; use_bias?: boolean; activation?: string };
}

Deno.test({
  name: "every entry's network options restate its model.json (widths, dilations, activation, bias, _gn norm)",
  ignore: !present,
  fn: () => {
    for (const e of ZOO_ENTRIES) {
      const model = JSON.parse(Deno.readTextFileSync(new URL(e.weights.modelJson.path, MIRROR)));
      const topology = model.modelTopology.model_config ?? model.modelTopology;
      const layers: KerasLayer[] = topology.config.layers;
      const convs = layers.filter((l) => l.class_name === "Conv3D");
      const hidden = convs.slice(0, -1);
      const o = e.network.options;
      assertEquals(hidden.map((l) => l.config.dilation_rate![0]), o.dilations, e.id);
      assert(hidden.every((l) => l.config.filters === o.channels), e.id);
      assertEquals(convs.at(-1)!.config.filters, o.numClasses, e.id);
      assert(hidden.every((l) => l.config.use_bias === o.withBias), e.id);
      assertEquals(hidden.every((l) => l.config.name.endsWith("_gn")), o.normalization === "instance", e.id);
      const activations = layers.filter((l) => l.class_name === "Activation").map((l) => l.config.activation);
      assertEquals(new Set(activations), new Set([o.actiFunc]), e.id);
    }
  },
});

Deno.test({
  name: "label names and colours of every entry are its model's colormap.json (or background/brain)",
  ignore: !present,
  fn: () => {
    for (const e of ZOO_ENTRIES) {
      const colormap = e.weights.files.find((f) => /colormap\d*\.json$/.test(f.path));
      if (!colormap) {
        assertEquals(e.output.labels.map((l) => l.name), ["background", "brain"], e.id);
        continue;
      }
      const cm = JSON.parse(Deno.readTextFileSync(new URL(colormap.path, MIRROR)));
      assertEquals(e.output.labels.map((l) => l.name), cm.labels, e.id);
      assertEquals(
        e.output.labels.map((l) => [...l.rgb]),
        cm.labels.map((_: string, i: number) => [cm.R[i], cm.G[i], cm.B[i]]),
      );
    }
  },
});

Deno.test({
  name: "label names of the parcellations agree with their labels.json where brainchop ships one",
  ignore: !present,
  fn: () => {
    // aparc50's labels.json spells one class differently ("CC_Posterior / …" vs "Corpus callosum"); names follow colormap.json.
    for (const id of ["subcortical-gwm", "subcortical-gwm-light"]) {
      const e = getZooEntry(id);
      const dir = e.weights.modelJson.path.replace(/model\.json$/, "");
      const labels = JSON.parse(Deno.readTextFileSync(new URL(`${dir}labels.json`, MIRROR)));
      assertEquals(e.output.labels.map((l) => l.name), Object.values(labels), id);
    }
  },
});
