/**
 * Jupyter messaging protocol (5.3) framing and HMAC-SHA256 signing.
 *
 * Frames: `[ids…, "<IDS|MSG>", hmac_hex(header, parent, metadata, content),
 * header, parent, metadata, content, buffers…]`.
 *
 * @module
 */

import { concatBytes } from "../_internal/bytes.ts";
import { OpsbookError } from "../errors.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
const DELIMITER = "<IDS|MSG>";

/** The protocol version this client speaks. */
export const PROTOCOL_VERSION = "5.3";

/** A Jupyter message header. */
export interface MessageHeader {
  /** Unique message id. */
  msg_id: string;
  /** Session id of the sender. */
  session: string;
  /** User name of the sender. */
  username: string;
  /** ISO 8601 timestamp. */
  date: string;
  /** Message type such as `execute_request`. */
  msg_type: string;
  /** Protocol version. */
  version: string;
}

/** A decoded Jupyter message. */
export interface JupyterMessage<C = Record<string, unknown>> {
  /** Routing identities before the delimiter. */
  identities: Uint8Array[];
  /** This message's header. */
  header: MessageHeader;
  /** The header of the request this message answers (or `{}`). */
  parent_header: Partial<MessageHeader>;
  /** Message metadata. */
  metadata: Record<string, unknown>;
  /** Message content. */
  content: C;
  /** Binary buffers after the content. */
  buffers: Uint8Array[];
}

/** Thrown for a malformed or wrongly signed message. */
export class WireError extends OpsbookError {
  /** Creates a wire error. */
  constructor(message: string) {
    super(message);
    this.name = "WireError";
  }
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Signs and verifies messages with HMAC-SHA256 (WebCrypto). An empty key
 * disables signing, as in Jupyter.
 *
 * @example Sign four parts
 * ```ts
 * import { Signer } from "./wire.ts";
 * import assert from "node:assert/strict";
 *
 * const signer = await Signer.create("secret");
 * const parts = ["{}", "{}", "{}", "{}"].map((s) => new TextEncoder().encode(s));
 * const signature = await signer.sign(parts);
 * assert.deepEqual(signature.length, 64);
 * assert.deepEqual(await signer.verify(parts, signature), true);
 * ```
 */
export class Signer {
  #key: CryptoKey | null;

  private constructor(key: CryptoKey | null) {
    this.#key = key;
  }

  /** Imports the key (the connection file's `key`). */
  static async create(key: string): Promise<Signer> {
    if (key === "") return new Signer(null);
    const cryptoKey = await crypto.subtle.importKey(
      "raw",
      ENCODER.encode(key),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    return new Signer(cryptoKey);
  }

  /** Hex HMAC over the concatenated parts (empty string without a key). */
  async sign(parts: Uint8Array[]): Promise<string> {
    if (!this.#key) return "";
    return hex(await crypto.subtle.sign("HMAC", this.#key, concatBytes(parts)));
  }

  /** Whether `signature` matches the parts (constant time via WebCrypto). */
  async verify(parts: Uint8Array[], signature: string): Promise<boolean> {
    if (!this.#key) return true;
    if (!/^(?:[0-9a-f]{2})+$/i.test(signature)) return false;
    const bytes = new Uint8Array(signature.length / 2);
    for (let i = 0; i < bytes.length; i++) {
      bytes[i] = parseInt(signature.slice(2 * i, 2 * i + 2), 16);
    }
    return await crypto.subtle.verify("HMAC", this.#key, bytes, concatBytes(parts));
  }
}

/** Options for {@linkcode createMessage}. */
export interface CreateMessageOptions {
  /**
   * Session id of the sender.
   * @default {a random UUID}
   */
  session?: string;
  /**
   * Header of the message this one answers.
   * @default {{}}
   */
  parent?: Partial<MessageHeader>;
  /**
   * User name put in the header.
   * @default {"opsbook"}
   */
  username?: string;
}

/**
 * Builds a message with a fresh header.
 *
 * @example A kernel_info_request
 * ```ts
 * import { createMessage } from "./wire.ts";
 * import assert from "node:assert/strict";
 *
 * const msg = createMessage("kernel_info_request", {}, { session: "s1" });
 * assert.deepEqual([msg.header.msg_type, msg.header.session, msg.header.version], [
 *   "kernel_info_request",
 *   "s1",
 *   "5.3",
 * ]);
 * ```
 */
export function createMessage<C extends Record<string, unknown>>(
  msgType: string,
  content: C,
  options: CreateMessageOptions = {},
): JupyterMessage<C> {
  return {
    identities: [],
    header: {
      msg_id: crypto.randomUUID(),
      session: options.session ?? crypto.randomUUID(),
      username: options.username ?? "opsbook",
      date: new Date().toISOString(),
      msg_type: msgType,
      version: PROTOCOL_VERSION,
    },
    parent_header: options.parent ?? {},
    metadata: {},
    content,
    buffers: [],
  };
}

/**
 * Serialises and signs a message into ZMTP frames.
 *
 * @example Frames around the delimiter
 * ```ts
 * import { createMessage, encodeJupyter, Signer } from "./wire.ts";
 * import assert from "node:assert/strict";
 *
 * const frames = await encodeJupyter(createMessage("x", {}), await Signer.create(""));
 * assert.deepEqual(new TextDecoder().decode(frames[0]), "<IDS|MSG>");
 * assert.deepEqual(frames.length, 6);
 * ```
 */
export async function encodeJupyter(
  message: JupyterMessage<unknown>,
  signer: Signer,
): Promise<Uint8Array[]> {
  const parts = [message.header, message.parent_header, message.metadata, message.content].map(
    (part) => ENCODER.encode(JSON.stringify(part)),
  );
  const signature = await signer.sign(parts);
  return [
    ...message.identities,
    ENCODER.encode(DELIMITER),
    ENCODER.encode(signature),
    ...parts,
    ...message.buffers,
  ];
}

/**
 * Parses and verifies ZMTP frames into a message; throws {@linkcode WireError}
 * when the delimiter is missing, JSON is malformed or the signature is wrong.
 *
 * @example Round trip
 * ```ts
 * import { createMessage, decodeJupyter, encodeJupyter, Signer } from "./wire.ts";
 * import assert from "node:assert/strict";
 *
 * const signer = await Signer.create("k");
 * const sent = createMessage("status", { execution_state: "idle" });
 * const got = await decodeJupyter(await encodeJupyter(sent, signer), signer);
 * assert.deepEqual(got.content, { execution_state: "idle" });
 * ```
 */
export async function decodeJupyter(
  frames: Uint8Array[],
  signer: Signer,
): Promise<JupyterMessage> {
  const at = frames.findIndex((f) =>
    f.length === DELIMITER.length && DECODER.decode(f) === DELIMITER
  );
  if (at < 0 || frames.length < at + 6) {
    throw new WireError("Malformed message: no <IDS|MSG> delimiter");
  }
  const parts = frames.slice(at + 2, at + 6);
  if (!(await signer.verify(parts, DECODER.decode(frames[at + 1])))) {
    throw new WireError("Invalid message signature");
  }
  let decoded: unknown[];
  try {
    decoded = parts.map((p) => JSON.parse(DECODER.decode(p)));
  } catch (error) {
    throw new WireError(`Malformed message JSON: ${(error as Error).message}`);
  }
  const [header, parent, metadata, content] = decoded as [
    MessageHeader,
    Partial<MessageHeader>,
    Record<string, unknown>,
    Record<string, unknown>,
  ];
  return {
    identities: frames.slice(0, at),
    header,
    parent_header: parent ?? {},
    metadata: metadata ?? {},
    content: content ?? {},
    buffers: frames.slice(at + 6),
  };
}
