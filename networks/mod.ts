/**
 * The network library.
 *
 * @module
 */
export * from "./base.ts";
export * from "./registry.ts";
export { ToyNet } from "./toynet.ts";
export { MeshNet, type MeshNetOptions } from "./meshnet.ts";
