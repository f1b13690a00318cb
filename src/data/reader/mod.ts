/**
 * Reading a dataset: input sections, subject matching across modalities, dataset splits and the lazy loader.
 *
 * @module
 */
export * from "./input_section.ts";
export * from "./subjects.ts";
export * from "./dataset_split.ts";
export * from "./loader.ts";
export * from "./csv_data.ts";
