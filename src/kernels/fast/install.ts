/**
 * Side-effect module: importing it installs the oneDNN convolution kernels on the cpu backend (see
 * {@link registerFastCpuKernels}). `src/kernels/register.ts` imports it, so every NiftyTS entry point gets them.
 *
 * @module
 */
import { registerFastCpuKernels } from "./register.ts";

registerFastCpuKernels();
