/** Plugin module: the dense stand-in VAE of `_applications_tiny_nets.ts` as its default export. */
export { tinyVae as default } from "./_applications_tiny_nets.ts";
