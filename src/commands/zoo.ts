/**
 * `cli.ts zoo list | info ID | run ID INPUT… -o OUT | export ID OUT.safetensors`: the model zoo from the command
 * line (`export --format tfjs|onnx` writes a deployable model). `run` loads the entry once and segments every input (NIfTI files, DICOM folders, or folders of NIfTI
 * files); each input's outputs are written only once all of them are computed, each file atomically.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { labelTableFiles, NIFTI_INTENT_LABEL, readImage, writeLabelTables, writeNifti } from "../io/mod.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { formatShard, resolveShard } from "../util/shard.ts";
import { ZooShard } from "./zoo_shard.ts";
import { exportNetwork, parseExportFormat } from "../export/mod.ts";
import {
  cachedState,
  exportZooCheckpoint,
  getZooEntry,
  loadZooModel,
  segmentImage,
  volumesCsv,
  ZOO_ENTRIES,
  type ZooManifest,
} from "../../zoo/mod.ts";

function megabytes(manifest: ZooManifest): string {
  return (manifest.weights.files.reduce((n, f) => n + f.bytes, 0) / 1e6).toFixed(2);
}

/** The `zoo list` table: id, task, classes, download size, whether the files are in the cache. */
export async function zooListCommand(options: { cacheDir?: string } = {}): Promise<string[]> {
  const rows = [["id", "task", "classes", "size (MB)", "cached"]];
  for (const e of ZOO_ENTRIES) {
    const classes = e.output.kind === "labels" ? String(e.network.options.numClasses) : "2 (mask)";
    rows.push([e.id, e.task, classes, megabytes(e), await cachedState(e.weights.files, options)]);
  }
  const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  return rows.map((r) => r.map((cell, k) => cell.padEnd(widths[k])).join("  ").trimEnd());
}

/** `zoo info ID`: everything in the manifest, readable (or as JSON). */
export function zooInfoCommand(id: string, { json = false }: { json?: boolean } = {}): string[] {
  const m = getZooEntry(id);
  if (json) return [JSON.stringify(m, null, 2)];
  const o = m.network.options;
  const i = m.input;
  const norm = i.normalization.kind === "quantile"
    ? `quantile (x − q${i.normalization.low}) / (q${i.normalization.high} − q${i.normalization.low})`
    : "min-max to [0, 1]";
  const crop = i.preModel
    ? `box of the foreground of pre-model ${i.preModel} + ${i.crop.padding} voxels`
    : `box of voxels > ${i.crop.threshold > 0 ? `${i.crop.threshold} · max` : "0"} + ${i.crop.padding} voxels`;
  return [
    `${m.id}: ${m.title}`,
    `  task:          ${m.task} (${m.description})`,
    `  upstream:      ${m.upstream}`,
    `  network:       ${m.network.name}, ${o.dilations.length} × ${o.channels} channels, ${o.actiFunc}, dilations ` +
    `${o.dilations.join(",")}${o.withBias ? "" : ", no bias"}${o.normalization ? `, ${o.normalization} norm` : ""}, ` +
    `${o.numClasses} classes`,
    `  input:         conform ${i.conform.shape.join("×")} at ${
      i.conform.voxelSize.join("×")
    } mm ${i.conform.axcodes}; ` +
    `${norm}; crop to the ${crop}`,
    `  output:        ${m.output.kind}; largest connected component: ${m.output.largestComponent ?? "off"}`,
    `  files (${megabytes(m)} MB):`,
    ...m.weights.files.map((f) => `    ${f.path}  ${f.bytes} bytes  sha256 ${f.sha256}\n      ${f.url}`),
    `  labels:`,
    ...m.output.labels.map((l) => `    ${String(l.value).padStart(3)}  ${l.name}  rgb(${l.rgb.join(",")})`),
    `  license:       ${m.license}`,
    `  citation:      ${m.citation}`,
    `  example:       deno run -A cli.ts ${m.example.command}`,
  ];
}

/** Options of {@link zooRunCommand}. */
export interface ZooRunOptions {
  readonly out: string;
  readonly prob?: boolean;
  readonly maskInput?: boolean;
  readonly mirror?: string;
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
  /** `i/n`: segment only this shard's scans, resumably (default: the schedulers' environment; see deploy/). */
  readonly shard?: string;
  /** Environment the shard may come from (default `Deno.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** Inputs as scans: files as given; a folder of NIfTI files is each of them, any other folder one DICOM series. */
export async function expandZooInputs(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    if (!(await isDirectory(input))) {
      out.push(input);
      continue;
    }
    const nifti = [];
    for await (const e of Deno.readDir(input)) if (e.isFile && /\.nii(\.gz)?$/i.test(e.name)) nifti.push(e.name);
    if (nifti.length) out.push(...nifti.sort().map((n) => join(input, n)));
    else out.push(input);
  }
  return out;
}

function stem(path: string): string {
  return basename(path.replace(/\/+$/, "")).replace(/\.nii(\.gz)?$/i, "");
}

/** Where one input's outputs go: `-o file.nii.gz` for one input, else `-o folder/<input>_<id>.nii.gz`. */
export function zooOutputPath(out: string, input: string, id: string, single: boolean): string {
  if (single && /\.nii(\.gz)?$/i.test(out)) return out;
  return join(out, `${stem(input)}_${id}.nii.gz`);
}

/** NIfTI options of a label map: intent NIFTI_INTENT_LABEL, and the FreeSurfer LUT written beside it if any. */
function labelMapOptions(tablePrefix?: string) {
  return {
    intent: { code: NIFTI_INTENT_LABEL, name: "labels" },
    auxFile: tablePrefix ? labelTableFiles(tablePrefix).lut : undefined,
  };
}

async function written(path: string, writing: Promise<void>): Promise<string> {
  await writing;
  return path;
}

function sidecar(path: string, suffix: string): string {
  return path.replace(/\.nii(\.gz)?$/i, (ext) => `${suffix}${ext}`);
}

/**
 * Segments every input with one entry (loaded once). Returns the lines to print; throws when any input failed
 * (after trying the others), naming each failure.
 */
export async function zooRunCommand(id: string, inputs: readonly string[], options: ZooRunOptions): Promise<string[]> {
  const entry = getZooEntry(id);
  const log = options.log ?? ((line: string) => console.error(line));
  const scans = await expandZooInputs(inputs);
  if (scans.length === 0) throw new Error("zoo run: no input scans");
  const single = scans.length === 1;
  const found = resolveShard(options.shard, options.env ?? Deno.env.toObject());
  if (found && /\.nii(\.gz)?$/i.test(options.out)) {
    throw new Error(`zoo run --shard: -o must be a folder, got "${options.out}"`);
  }
  // The output folder, or the output file's folder, is made when missing.
  const outDir = single && /\.nii(\.gz)?$/i.test(options.out) ? dirname(options.out) : options.out;
  await Deno.mkdir(outDir, { recursive: true });
  if (found) console.log(`shard ${formatShard(found.shard)} (from ${found.source})`);
  const plan = found
    ? await ZooShard.plan(scans, {
      shard: found.shard,
      out: options.out,
      outputOf: (scan) => zooOutputPath(options.out, scan, id, single),
    })
    : undefined;
  const todo = plan?.todo ?? scans;
  const lines: string[] = [];
  if (todo.length === 0) return plan ? [plan.summary()] : lines;
  const model = await loadZooModel(entry, { mirror: options.mirror, cacheDir: options.cacheDir });
  const failures: string[] = [];
  try {
    for (const [k, scan] of todo.entries()) {
      const tag = todo.length > 1 ? `[${k + 1}/${todo.length}] ` : "";
      try {
        const image = await readImage(scan);
        const start = performance.now();
        const result = segmentImage(model, image, {
          probabilities: options.prob,
          source: scan,
          onProgress: (m) => log(`${tag}${m}`),
        });
        const path = zooOutputPath(options.out, scan, id, single);
        const mainIsLabels = entry.output.kind !== "extracted";
        // Each write returns the path(s) it wrote; the main output first.
        const writes: (() => Promise<string | string[]>)[] = [
          () => written(path, writeNifti(path, result.output, mainIsLabels ? labelMapOptions(id) : {})),
        ];
        if (mainIsLabels) writes.push(() => writeLabelTables(dirname(path), entry.output.labels, id));
        const csv = path.replace(/\.nii(\.gz)?$/i, ".csv");
        writes.push(() => written(csv, writeFileAtomic(csv, volumesCsv(result.volumes))));
        if (entry.output.kind === "extracted") {
          const p = sidecar(path, "_mask");
          writes.push(() => written(p, writeNifti(p, result.mask, labelMapOptions())));
        }
        if (options.maskInput && entry.output.kind !== "extracted") {
          const p = sidecar(path, "_masked");
          const data = image.data.slice(0, result.mask.data.length).map((v, i) => (result.mask.data[i] ? v : 0));
          const masked = { ...image, data, shape: result.mask.shape, ndim: 3 } as typeof image;
          writes.push(() => written(p, writeNifti(p, masked)));
        }
        if (result.probabilities) {
          const p = sidecar(path, "_prob");
          const probabilities = result.probabilities;
          writes.push(() => written(p, writeNifti(p, probabilities)));
        }
        const paths: string[] = [];
        for (const write of writes) paths.push(...[await write()].flat());
        const seconds = ((performance.now() - start) / 1000).toFixed(1);
        lines.push(...result.notes, `${tag}${scan}: ${entry.id} in ${seconds} s → ${paths.join(", ")}`);
        await plan?.finished(scan);
      } catch (e) {
        const message = (e as Error).message;
        failures.push(message.startsWith(scan) ? message : `${scan}: ${message}`);
        if (!single) log(`${tag}error: ${failures.at(-1)}`);
      }
    }
  } finally {
    model.dispose();
  }
  if (plan) lines.push(plan.summary());
  if (failures.length) {
    for (const line of lines) console.log(line);
    throw new Error(failures.length === 1 ? failures[0] : `${failures.length} of ${scans.length} inputs failed`);
  }
  return lines;
}

/**
 * `zoo export ID OUT [--format safetensors|tfjs|onnx]`: the entry's weights under DSL names (a restore-initializer
 * source), or its network as a deployable model folder (the writer of `cli.ts export`).
 */
export async function zooExportCommand(
  id: string,
  out: string,
  options: { mirror?: string; cacheDir?: string; format?: string } = {},
): Promise<string[]> {
  const format = options.format ?? "safetensors";
  const exportFormat = format === "safetensors" ? undefined : parseExportFormat(format);
  const model = await loadZooModel(id, options);
  try {
    if (exportFormat) {
      // The writer of `cli.ts export`, traced on a 16³ input (MeshNet is fully convolutional).
      const result = await exportNetwork(model.network, model.store, {
        format: exportFormat,
        out,
        traceShape: [1, 16, 16, 16, 1],
        name: id,
      });
      return result.files.map((f) => `wrote ${f}`);
    }
    await exportZooCheckpoint(model, out);
    const count = model.store.records().length;
    return [`wrote ${out}: ${count} variables of ${id} (network ${model.manifest.network.name})`];
  } finally {
    model.dispose();
  }
}
