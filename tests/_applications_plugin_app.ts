/** An application plugin for the tests: the segmentation application under another name. */
import { type Application, segmentationApplication } from "../src/applications/mod.ts";

/** The plugin's export. */
export const application: Application = { ...segmentationApplication, name: "plugin_segmentation" };
