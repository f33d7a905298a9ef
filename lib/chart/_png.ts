/**
 * A minimal RGBA PNG encoder (zlib deflate from `node:zlib`) for heatmap
 * rasters embedded as data URLs, and base64.
 *
 * @module
 */
import { deflateSync } from "node:zlib";
import type { ColorRamp, HeatGrid } from "./marks.ts";
import { concatBytes } from "../_internal/bytes.ts";

export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) chunk[4 + i] = type.charCodeAt(i);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  return chunk;
}

export function encodeRgbaPng(grid: HeatGrid, ramp: ColorRamp, sx = 1, sy = 1): Uint8Array {
  const { rows, cols, values } = grid;
  const width = cols * sx;
  const height = rows * sy;
  const stride = width * 4 + 1;
  const raw = new Uint8Array(height * stride);
  for (let r = 0; r < rows; r++) {
    const base = r * sy * stride;
    let o = base + 1; // filter byte 0 (none)
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c];
      if (Number.isNaN(v)) {
        o += 4 * sx;
        continue;
      }
      const [red, green, blue] = ramp(v);
      for (let k = 0; k < sx; k++, o += 4) {
        raw[o] = red;
        raw[o + 1] = green;
        raw[o + 2] = blue;
        raw[o + 3] = 255;
      }
    }
    for (let k = 1; k < sy; k++) raw.copyWithin(base + k * stride, base, base + stride);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", new Uint8Array(deflateSync(raw))),
    pngChunk("IEND", new Uint8Array(0)),
  ];
  return concatBytes(parts);
}
