/**
 * Cutting windows out of volumes and pasting them back. Samplers keep their windows inside the volume (as NiftyNet
 * does); a window that reaches past it anyway reads a constant there.
 *
 * @module
 */
import type { ChannelVolume, Spatial3 } from "../types.ts";

/** Copies the window `[start, start + size)` of every channel; voxels outside the volume get `fill` (default 0). */
export function cropWindow(volume: ChannelVolume, start: Spatial3, size: Spatial3, fill = 0): ChannelVolume {
  const [nx, ny, nz] = volume.shape;
  const [sx, sy, sz] = size;
  const out = new Float32Array(sx * sy * sz * volume.channels);
  if (fill !== 0) out.fill(fill);
  const x0 = Math.max(0, start[0]), x1 = Math.min(nx, start[0] + sx);
  if (x1 <= x0) return { data: out, shape: size, channels: volume.channels };
  const vin = nx * ny * nz, vout = sx * sy * sz;
  for (let c = 0; c < volume.channels; c++) {
    for (let z = Math.max(0, start[2]); z < Math.min(nz, start[2] + sz); z++) {
      for (let y = Math.max(0, start[1]); y < Math.min(ny, start[1] + sy); y++) {
        const src = c * vin + nx * (y + ny * z);
        const dst = c * vout + sx * (y - start[1] + sy * (z - start[2])) - start[0];
        out.set(volume.data.subarray(src + x0, src + x1), dst + x0);
      }
    }
  }
  return { data: out, shape: size, channels: volume.channels };
}

/**
 * Writes the part `[from, from + extent)` of a window (window coordinates) into `target` at `start + from`,
 * skipping whatever falls outside the target.
 */
export function pasteWindow(
  target: ChannelVolume,
  window: ChannelVolume,
  start: Spatial3,
  region: { from: Spatial3; extent: Spatial3 } = { from: [0, 0, 0], extent: window.shape },
): void {
  if (window.channels !== target.channels) {
    throw new Error(`cannot paste a ${window.channels}-channel window into a ${target.channels}-channel volume`);
  }
  const [nx, ny, nz] = target.shape;
  const [wx, wy, wz] = window.shape;
  const lo = [0, 1, 2].map((d) => Math.max(start[d] + region.from[d], 0));
  const hi = [0, 1, 2].map((d) => Math.min(start[d] + region.from[d] + region.extent[d], target.shape[d]));
  if (lo.some((l, d) => l >= hi[d])) return;
  const vt = nx * ny * nz, vw = wx * wy * wz;
  for (let c = 0; c < target.channels; c++) {
    for (let z = lo[2]; z < hi[2]; z++) {
      for (let y = lo[1]; y < hi[1]; y++) {
        const src = c * vw + wx * (y - start[1] + wy * (z - start[2])) - start[0];
        const dst = c * vt + nx * (y + ny * z);
        target.data.set(window.data.subarray(src + lo[0], src + hi[0]), dst + lo[0]);
      }
    }
  }
}
