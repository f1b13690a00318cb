/** An application plugin for the tests: the segmentation application under another name. */
import { segmentationApplication } from "../src/applications/mod.ts";
import type { Application } from "../src/engine/application.ts";

/** The plugin's export. */
export const application: Application = { ...segmentationApplication, name: "plugin_segmentation" };
