/** Plugin module: the dense stand-in GAN of `_applications_tiny_nets.ts` as its default export. */
export { tinyGan as default } from "./_applications_tiny_nets.ts";
