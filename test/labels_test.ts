import assert from "node:assert/strict";
import { fingerprint, formatLabels, type Labels } from "../lib/labels.ts";

/** The reference: Prometheus' FNV-1a 64 label-set hash, written plainly with BigInt. */
function referenceFingerprint(labels: Labels): string {
  let h = 0xcbf29ce484222325n;
  const add = (byte: number) => {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  };
  for (const name of Object.keys(labels).sort()) {
    if (!labels[name]) continue;
    for (const part of [name, labels[name]]) {
      for (const b of new TextEncoder().encode(part)) add(b);
      add(0xff);
    }
  }
  return h.toString(16).padStart(16, "0");
}

Deno.test("fingerprint: the empty set is the FNV-1a 64 offset basis", () => {
  assert.equal(fingerprint({}), "cbf29ce484222325");
  assert.equal(fingerprint({ a: "" }), "cbf29ce484222325");
});

Deno.test("fingerprint: equals the BigInt reference on ASCII, CJK, long and odd label sets", () => {
  const sets: Labels[] = [
    { alertname: "HostHighCpu" },
    { alertname: "HostHighCpu", instance: "ali-hz-db-01:9100", cloud: "aliyun", region: "" },
    { instance: "阿里云-杭州:9100", job: "node", a_b: "<!channel> & more" },
    { z: "1", a: "2", long: "x".repeat(400) },
    { e: "é\u00ff\u0100\u{1f525}" },
  ];
  for (let i = 0; i < 200; i++) {
    sets.push({ instance: `host-${i * 7919}:9100`, region: `r${i % 13}`, x: "\u00ff\u0100" });
  }
  for (const labels of sets) assert.equal(fingerprint(labels), referenceFingerprint(labels));
});

Deno.test("fingerprint: independent of key order, sensitive to every value", () => {
  assert.equal(fingerprint({ a: "1", b: "2" }), fingerprint({ b: "2", a: "1" }));
  assert.notEqual(fingerprint({ a: "1", b: "2" }), fingerprint({ a: "1", b: "3" }));
  // The 0xff separator keeps name/value boundaries apart.
  assert.notEqual(fingerprint({ ab: "c" }), fingerprint({ a: "bc" }));
});

Deno.test("formatLabels sorts and quotes", () => {
  assert.equal(formatLabels({ job: "node", instance: 'a"b' }), '{instance="a\\"b", job="node"}');
});
