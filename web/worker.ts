/**
 * The app's worker: holds the scan, loads zoo models from the serving origin's `/zoo/` and segments on the chosen
 * backend (falling back webgl → webgpu → wasm → cpu), so the page stays responsive and a cancel is a terminate.
 *
 * @module
 */
import { decodeDicomFiles, decodeNiftiFile, encodeNifti1, type Image, NIFTI_INTENT_LABEL } from "../src/io/mod.ts";
import { recordGraph } from "../src/dsl/mod.ts";
import { graphHtml } from "../src/viz/graph_html.ts";
import { fetchZooModel } from "../zoo/fetch.ts";
import type { ZooModel } from "../zoo/model.ts";
import { getZooEntry } from "../zoo/registry.ts";
import { segmentImageAsync } from "../zoo/segment.ts";
import { withBackendFallback } from "../src/inference/failsafe.ts";
import { tf } from "../src/deps.ts";
import { BROWSER_BACKENDS, type BrowserBackend, renewBrowserBackend, useBrowserBackend } from "./backend.ts";
import { runFineTune, tunedCheckpoint, tunedZooModel } from "./finetune_job.ts";
import type { Reply, Request } from "./protocol.ts";

interface WorkerScope {
  postMessage(message: Reply, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<Request>) => void) | null;
  location: { href: string };
}
const scope = globalThis as unknown as WorkerScope;

let image: Image | undefined;
let imageName = "input";
const models = new Map<string, ZooModel>();

async function model(id: string): Promise<ZooModel> {
  let m = models.get(id);
  if (!m) {
    const base = new URL("/zoo/", scope.location.href);
    m = await fetchZooModel(getZooEntry(id), base, {
      onProgress: (p) =>
        scope.postMessage({ type: "progress", fraction: 0.1 * p.received / p.total, message: `weights: ${p.file}` }),
    });
    models.set(id, m);
  }
  return m;
}

function load(name: string, bytes: ArrayBuffer): Reply {
  return accept(decodeNiftiFile(new Uint8Array(bytes), name), name);
}

/** Keeps `parsed` as the scan when it is one 3D volume; one line naming `name` otherwise. */
function accept(parsed: Image, name: string): Reply & { type: "loaded" } {
  const [x, y, z, t, c] = parsed.shape;
  if (t > 1 || c > 1) {
    throw new Error(
      `${name}: is a ${t > 1 ? `4D series of ${t} volumes` : `${c}-component image`} ` +
        `[${parsed.shape.slice(0, parsed.ndim).join(", ")}]; open a single 3D scan`,
    );
  }
  if (z === 1) throw new Error(`${name}: is a 2D image [${x}, ${y}]; open a 3D scan`);
  image = parsed;
  imageName = name;
  return { type: "loaded", shape: parsed.shape.slice(0, 3), pixdim: parsed.pixdim, datatype: parsed.datatype };
}

/** A DICOM folder's series as the scan; the reply carries it as NIfTI bytes for the viewer. */
function loadDicom(name: string, files: readonly { name: string; bytes: ArrayBuffer }[]): Reply {
  const volume = decodeDicomFiles(
    files.map((f) => ({ name: f.name, bytes: new Uint8Array(f.bytes) })),
    name,
    { mixedHint: "open a folder that holds one series" },
  );
  const reply = accept(volume, name);
  const nifti = encodeNifti1(volume);
  const buffer = nifti.buffer.slice(nifti.byteOffset, nifti.byteOffset + nifti.byteLength) as ArrayBuffer;
  return { ...reply, nifti: buffer };
}

async function segment(id: string, asked: Request & { type: "segment" }): Promise<void> {
  if (!image) throw new Error("no scan loaded: open a NIfTI file first");
  const scan = image;
  const first = await useBrowserBackend(asked.backend, { fallback: true });
  let m = asked.tuned ? tunedZooModel(id) : await model(id);
  const start = performance.now();
  // A device that fails (lost WebGL context, out of memory even in thin slabs) hands the run to the next backend;
  // its copy of the weights may be gone with it, so the model is loaded again there.
  const { value: result, backend, notes } = await withBackendFallback(
    BROWSER_BACKENDS.slice(BROWSER_BACKENDS.indexOf(first)),
    async () =>
      await segmentImageAsync(m, scan, {
        source: imageName,
        onFraction: (f) => scope.postMessage({ type: "progress", fraction: 0.1 + 0.85 * f, message: "segmenting" }),
        onProgress: (message) => scope.postMessage({ type: "progress", fraction: -1, message }),
      }),
    {
      use: async (b) => {
        const failed = tf.getBackend() as BrowserBackend;
        await useBrowserBackend(b as BrowserBackend);
        if (b === first) return;
        // The fine-tuned weights exist only in this worker: tfjs moves them to the new backend when read.
        if (asked.tuned) return;
        if (failed !== b) renewBrowserBackend(failed);
        models.clear();
        m = await model(id);
      },
      onNotice: (message) => scope.postMessage({ type: "progress", fraction: -1, message }),
    },
  );
  const nifti = encodeNifti1(result.labels, { intent: { code: NIFTI_INTENT_LABEL, name: "labels" } });
  const buffer = nifti.buffer.slice(nifti.byteOffset, nifti.byteOffset + nifti.byteLength) as ArrayBuffer;
  const colours = m.manifest.output.labels;
  scope.postMessage({
    type: "segmented",
    nifti: buffer,
    labels: result.volumes.map((v) => ({ ...v, rgb: colours[v.value]?.rgb ?? [255, 255, 0] })),
    backend: backend as BrowserBackend,
    seconds: (performance.now() - start) / 1000,
    notes: [...notes, ...result.notes],
  }, [buffer]);
}

async function graph(id: string): Promise<Reply> {
  await useBrowserBackend("cpu");
  const m = await model(id);
  const recorded = recordGraph(m.network, [[1, 16, 16, 16, 1]], { store: m.store });
  return { type: "graph", html: graphHtml(recorded) };
}

scope.onmessage = async (event) => {
  const request = event.data;
  try {
    if (request.type === "load") scope.postMessage(load(request.name, request.bytes));
    else if (request.type === "segment") await segment(request.id, request);
    else if (request.type === "graph") scope.postMessage(await graph(request.id));
    else if (request.type === "finetune") {
      if (!image) throw new Error("no scan loaded: open a NIfTI file first");
      const base = await model(request.id);
      const scan = { image, name: imageName };
      scope.postMessage(await runFineTune(base, scan, request.labels, request.settings, (r) => scope.postMessage(r)));
    } else if (request.type === "checkpoint") {
      const reply = await tunedCheckpoint();
      scope.postMessage(reply, reply.type === "checkpoint" ? [reply.bytes] : []);
    } else if (request.type === "dicom") {
      const reply = loadDicom(request.name, request.files);
      scope.postMessage(reply, reply.type === "loaded" && reply.nifti ? [reply.nifti] : []);
    }
  } catch (e) {
    scope.postMessage({ type: "error", message: e instanceof Error ? e.message : String(e) });
  }
};
