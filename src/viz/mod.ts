/**
 * Visualization and logging: TensorBoard event files (scalars, images, graphs), and the recorded network graph as
 * JSON, a TensorBoard GraphDef and a self-contained HTML/SVG page.
 *
 * @example
 * ```ts
 * import { EventWriter, graphDef, writeGraphFiles } from "./src/viz/mod.ts";
 * await writeGraphFiles(graph, "model_dir/graph");
 * const writer = await EventWriter.open("model_dir/logs/training");
 * writer.graph(graphDef(graph));
 * writer.scalar("loss", 0.3, 1);
 * await writer.close();
 * ```
 *
 * @module
 */
export * from "./tensorboard/mod.ts";
export { graphJson } from "./graph_json.ts";
export { graphHtml, type GraphHtmlOptions } from "./graph_html.ts";
export { writeGraphFiles, type WriteGraphFilesOptions } from "./write_graph_files.ts";
export { type GraphLayout, type LayoutBox, type LayoutEdge, layoutGraph, renderSvg } from "./graph_layout.ts";
