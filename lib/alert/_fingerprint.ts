/**
 * A fast {@linkcode fingerprint}: the same FNV-1a 64 over the sorted label
 * set as `lib/labels.ts` (byte for byte the same output, checked by
 * `test/alert_model_test.ts`), computed on four 16-bit limbs instead of
 * BigInt: about 50 times faster, which matters when a rule maps 10,000
 * series to alert fingerprints at every evaluation. Not exported from
 * `lib/mod.ts`.
 *
 * @module
 */

import type { Labels } from "../labels.ts";

const encoder = new TextEncoder();

/** FNV-1a 64 of the label set, as 16 lowercase hex digits (see `fingerprint`). */
export function fastFingerprint(labels: Labels): string {
  // offset basis 0xcbf29ce484222325 as 16-bit limbs, least significant first
  let h0 = 0x2325, h1 = 0x8422, h2 = 0x9ce4, h3 = 0xcbf2;
  const mix = (b: number) => {
    h0 ^= b;
    // h * 0x100000001b3 = h * 0x1b3 + (h << 40), modulo 2^64
    let t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3 + (h0 << 8);
    let t3 = h3 * 0x1b3 + (h1 << 8);
    t1 += t0 >>> 16;
    t0 &= 0xffff;
    t2 += t1 >>> 16;
    t1 &= 0xffff;
    t3 += t2 >>> 16;
    t2 &= 0xffff;
    h0 = t0;
    h1 = t1;
    h2 = t2;
    h3 = t3 & 0xffff;
  };
  const text = (s: string) => {
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      for (let i = 0; i < s.length; i++) mix(s.charCodeAt(i));
    } else {
      for (const b of encoder.encode(s)) mix(b);
    }
    mix(0xff);
  };
  for (const name of Object.keys(labels).sort()) {
    const value = labels[name];
    if (value === "" || value === undefined || value === null) continue;
    text(name);
    text(value);
  }
  const hex = (n: number) => n.toString(16).padStart(4, "0");
  return hex(h3) + hex(h2) + hex(h1) + hex(h0);
}
