import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  createMessage,
  decodeJupyter,
  encodeJupyter,
  Signer,
  WireError,
} from "../../lib/notebook/wire.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("signatures are HMAC-SHA256 hex over header, parent, metadata and content", async () => {
  const signer = await Signer.create("a0436f6c-1916-498b-8eb9-e81ab9368e84");
  const msg = createMessage("execute_request", { code: "1 + 1" }, { session: "s" });
  const frames = await encodeJupyter(msg, signer);
  const expected = createHmac("sha256", "a0436f6c-1916-498b-8eb9-e81ab9368e84")
    .update(Buffer.concat(frames.slice(2, 6)))
    .digest("hex");
  assert.equal(dec.decode(frames[0]), "<IDS|MSG>");
  assert.equal(dec.decode(frames[1]), expected);
  assert.deepEqual(JSON.parse(dec.decode(frames[5])), { code: "1 + 1" });
});

Deno.test("decodeJupyter round-trips identities, parent and buffers", async () => {
  const signer = await Signer.create("key");
  const parent = createMessage("execute_request", {}).header;
  const msg = createMessage("stream", { name: "stdout", text: "hi\n" }, { parent });
  msg.identities = [enc.encode("peer-1")];
  msg.buffers = [new Uint8Array([1, 2, 3])];
  const back = await decodeJupyter(await encodeJupyter(msg, signer), signer);
  assert.deepEqual(back.identities, [enc.encode("peer-1")]);
  assert.deepEqual(back.header, msg.header);
  assert.equal(back.parent_header.msg_id, parent.msg_id);
  assert.deepEqual(back.content, { name: "stdout", text: "hi\n" });
  assert.deepEqual(back.buffers, [new Uint8Array([1, 2, 3])]);
});

Deno.test("a wrong signature, a missing delimiter and bad JSON throw WireError", async () => {
  const signer = await Signer.create("key");
  const frames = await encodeJupyter(createMessage("status", { execution_state: "idle" }), signer);
  const forged = [...frames];
  forged[5] = enc.encode('{"execution_state":"busy"}');
  await assert.rejects(
    decodeJupyter(forged, signer),
    (e) => e instanceof WireError && e.message === "Invalid message signature",
  );
  await assert.rejects(decodeJupyter(frames.slice(1), signer), /no <IDS\|MSG> delimiter/);
  const other = await Signer.create("other");
  await assert.rejects(decodeJupyter(frames, other), WireError);
  const unsigned = await Signer.create("");
  const bad = [...frames];
  bad[3] = enc.encode("{nope");
  await assert.rejects(decodeJupyter(bad, unsigned), /^WireError: Malformed message JSON: /);
});

Deno.test("an empty key signs with an empty string and accepts anything", async () => {
  const signer = await Signer.create("");
  assert.equal(await signer.sign([enc.encode("x")]), "");
  assert.equal(await signer.verify([enc.encode("x")], "whatever"), true);
  const keyed = await Signer.create("k");
  assert.equal(await keyed.verify([enc.encode("x")], "zz"), false);
});
