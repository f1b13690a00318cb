/**
 * TensorBoard event files: record framing, event encoding, the event writer and the GraphDef exporter.
 *
 * @module
 */
export { crc32c, maskedCrc32c } from "./crc32c.ts";
export { frameRecord } from "./record.ts";
export {
  encodeEvent,
  type EventOptions,
  type EventPayload,
  imageFromValues,
  type ImageFromValuesOptions,
  type ImagePixels,
  imagePng,
} from "./event.ts";
export { eventFileBytes, eventFileName, EventWriter, type EventWriterOptions, FILE_VERSION } from "./event_writer.ts";
export {
  type AttrSpec,
  DT_FLOAT,
  encodeGraphDef,
  encodeNodeDef,
  graphDef,
  nodeDefs,
  type NodeDefSpec,
} from "./graph_def.ts";
export { middleSlice, summarySlice } from "./summary_slice.ts";
