// Test images made on the spot (no binary fixtures): PNG encoding and reading of a PNG's or a JPEG's size.
import { deflateSync, crc32 } from "node:zlib";

/** An RGB PNG of `width`×`height` with a colour gradient (so a thumbnail is visibly an image). */
export function png(width, height, seed = 0) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = (x * 255) / width;
      raw[row + 2 + x * 3] = (y * 255) / height;
      raw[row + 3 + x * 3] = (seed * 67 + (x ^ y)) & 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([SIGNATURE, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

/** Starts like a PNG, then garbage: the API answers 422 invalid_image. */
export const corruptPng = () => Buffer.concat([SIGNATURE, Buffer.from("this is not a PNG at all")]);

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** `{format, width, height}` of PNG bytes, else null. */
export function pngInfo(bytes) {
  if (!bytes.subarray(0, 8).equals(SIGNATURE) || bytes.toString("ascii", 12, 16) !== "IHDR") return null;
  return { format: "png", width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}
