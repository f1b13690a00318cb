/**
 * Writes all three views of a recorded network into one folder.
 *
 * @module
 */
import type { NetworkGraph } from "../dsl/graph_types.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { graphHtml } from "./graph_html.ts";
import { graphJson } from "./graph_json.ts";
import { graphDef } from "./tensorboard/graph_def.ts";
import { eventFileBytes, eventFileName } from "./tensorboard/event_writer.ts";

/** Options for {@link writeGraphFiles}. */
export interface WriteGraphFilesOptions {
  /** Host name in the event file name; `Deno.hostname()` (or `localhost`) when omitted. */
  readonly hostname?: string;
  /** Clock in milliseconds since the epoch (for tests); `Date.now` when omitted. */
  readonly now?: () => number;
}

/**
 * Writes `graph.json`, `graph.html` and a TensorBoard event file holding the GraphDef
 * (`events.out.tfevents.<unix seconds>.<hostname>`, so `tensorboard --logdir <outDir>` shows it) into `outDir`,
 * creating it if needed. Each file is written atomically (temp file + rename). Returns the three paths.
 *
 * @example
 * ```ts
 * const { html } = await writeGraphFiles(graph, "model_dir/graph");
 * ```
 */
export async function writeGraphFiles(
  graph: NetworkGraph,
  outDir: string,
  options: WriteGraphFilesOptions = {},
): Promise<{ json: string; html: string; events: string }> {
  // Encode everything first: a bad graph must fail before any file is touched.
  const json = graphJson(graph);
  const html = graphHtml(graph);
  const wallTime = (options.now ?? Date.now)() / 1000;
  const events = eventFileBytes([{ payload: { kind: "graph", graphDef: graphDef(graph) } }], { wallTime });
  await Deno.mkdir(outDir, { recursive: true });
  const dir = outDir.replace(/\/+$/, "") || "/";
  const paths = {
    json: `${dir}/graph.json`,
    html: `${dir}/graph.html`,
    events: `${dir}/${eventFileName(wallTime, options.hostname ?? hostname())}`,
  };
  await writeFileAtomic(paths.json, json);
  await writeFileAtomic(paths.html, html);
  await writeFileAtomic(paths.events, events);
  return paths;
}

function hostname(): string {
  try {
    return Deno.hostname() || "localhost";
  } catch {
    return "localhost";
  }
}
