/**
 * A local Slack-compatible receiver for tests: an incoming webhook that
 * enforces the documented payload contract (JSON with `text` or `blocks`, at
 * most 50 blocks, section text at most 3,000 characters, header plain_text at
 * most 150) and answers `200 ok`, plus the three Web API steps of a file
 * upload. It records every request and can be told to answer 429 with
 * `Retry-After`, 500, 400 `invalid_payload`, 403 `action_prohibited`, 404
 * `no_service`, 410 `channel_is_archived`, or to hang.
 *
 * @example
 * ```ts ignore
 * await using slack = startSlackReceiver();
 * slack.respond("no_service");
 * const sink = new SlackSink({ webhookUrl: slack.webhookUrl, baseUrl: slack.url });
 * ```
 *
 * @module
 */

/** A scripted answer of the webhook. */
export type SlackFault =
  | "ok"
  | "rate_limited"
  | "server_error"
  | "invalid_payload"
  | "action_prohibited"
  | "no_service"
  | "channel_is_archived"
  | "hang";

/** One request the receiver saw. */
export interface RecordedRequest {
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Request headers, lower-case names. */
  headers: Record<string, string>;
  /** Body as text (empty for binary uploads). */
  body: string;
  /** Body size in bytes. */
  size: number;
  /** The status the receiver answered (0 while hanging). */
  status: number;
  /** The code the receiver answered, e.g. `ok`, `no_service`. */
  answer: string;
}

/** One file completed through `files.completeUploadExternal`. */
export interface RecordedUpload {
  /** File id. */
  id: string;
  /** File name given to `files.getUploadURLExternal`. */
  filename: string;
  /** Title given at completion. */
  title?: string;
  /** Channel it was shared in. */
  channel?: string;
  /** Initial comment, if any. */
  comment?: string;
  /** The uploaded bytes. */
  bytes: Uint8Array;
}

/** Options of {@linkcode startSlackReceiver}. */
export interface SlackReceiverOptions {
  /** The webhook path accepted. @default {"/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"} */
  webhookPath?: string;
  /** The bot token accepted by the Web API. @default {"xoxb-00000000000-fake-token"} */
  botToken?: string;
  /** `Retry-After` seconds sent with `rate_limited`. @default {1} */
  retryAfter?: number;
}

/** A running receiver. */
export interface SlackReceiver extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The fake webhook URL to configure (`https://hooks.slack.com` + the webhook path). */
  webhookUrl: string;
  /** The bot token accepted. */
  botToken: string;
  /** Every request, in order. */
  requests: RecordedRequest[];
  /** Webhook payloads answered `200 ok`. */
  messages: Record<string, unknown>[];
  /** Completed uploads. */
  uploads: RecordedUpload[];
  /** Queues answers for the next webhook requests (`times` each, default 1). */
  respond(fault: SlackFault, times?: number): void;
  /** Sets the `Retry-After` of `rate_limited` answers. */
  setRetryAfter(seconds: number): void;
  /** Stops the server (releasing hanging requests). */
  close(): Promise<void>;
}

const CODES: Record<Exclude<SlackFault, "ok" | "hang">, [number, string]> = {
  rate_limited: [429, "rate_limited"],
  server_error: [500, "internal_error"],
  invalid_payload: [400, "invalid_payload"],
  action_prohibited: [403, "action_prohibited"],
  no_service: [404, "no_service"],
  channel_is_archived: [410, "channel_is_archived"],
};

const BLOCK_TYPES = new Set([
  "header",
  "section",
  "context",
  "divider",
  "actions",
  "image",
  "rich_text",
  "markdown",
]);

/** A string, anywhere in `value`, holding an unpaired surrogate (not valid Unicode, no UTF-8 form). */
function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === "string") return !value.isWellFormed();
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  if (value !== null && typeof value === "object") {
    return Object.values(value).some(hasLoneSurrogate);
  }
  return false;
}

/**
 * Checks a webhook payload against Slack's documented limits; returns an
 * error code or null. Text must be valid Unicode: a lone surrogate (half
 * an emoji, as a careless cut leaves) is `invalid_payload`.
 */
export function validateSlackPayload(payload: unknown): string | null {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    return "invalid_payload";
  }
  if (hasLoneSurrogate(payload)) return "invalid_payload";
  const p = payload as { text?: unknown; blocks?: unknown };
  const hasText = typeof p.text === "string" && p.text.trim() !== "";
  if (p.blocks === undefined) return hasText ? null : "no_text";
  if (!Array.isArray(p.blocks)) return "invalid_blocks";
  if (p.blocks.length === 0 && !hasText) return "no_text";
  if (p.blocks.length > 50) return "invalid_blocks";
  for (const block of p.blocks) {
    if (!block || typeof block !== "object" || !BLOCK_TYPES.has(block.type)) {
      return "invalid_blocks";
    }
    if (block.type === "header") {
      const t = block.text;
      if (t?.type !== "plain_text" || typeof t.text !== "string") return "invalid_blocks";
      if (t.text.length === 0 || t.text.length > 150) return "invalid_blocks";
    }
    if (block.type === "section") {
      const t = block.text;
      if (!t || (t.type !== "mrkdwn" && t.type !== "plain_text")) return "invalid_blocks";
      if (typeof t.text !== "string" || t.text.length === 0 || t.text.length > 3000) {
        return "invalid_blocks";
      }
    }
    if (block.type === "context") {
      const els = block.elements;
      if (!Array.isArray(els) || els.length === 0 || els.length > 10) return "invalid_blocks";
      for (const el of els) {
        if (typeof el?.text !== "string" || el.text.length === 0 || el.text.length > 3000) {
          return "invalid_blocks";
        }
      }
    }
  }
  return null;
}

/**
 * Starts the receiver on a free loopback port.
 *
 * @example
 * ```ts ignore
 * await using slack = startSlackReceiver({ retryAfter: 1 });
 * ```
 */
export function startSlackReceiver(options: SlackReceiverOptions = {}): SlackReceiver {
  const webhookPath = options.webhookPath ??
    "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
  const botToken = options.botToken ?? "xoxb-00000000000-fake-token";
  let retryAfter = options.retryAfter ?? 1;
  const queue: SlackFault[] = [];
  const requests: RecordedRequest[] = [];
  const messages: Record<string, unknown>[] = [];
  const uploads: RecordedUpload[] = [];
  const pending = new Map<string, { filename: string; length: number; bytes?: Uint8Array }>();
  const hanging = new Set<() => void>();
  let nextFile = 1;
  let closed = false;

  const json = (rec: RecordedRequest, body: unknown, status = 200) => {
    rec.status = status;
    rec.answer = (body as { error?: string }).error ?? "ok";
    return Response.json(body, { status });
  };
  const text = (rec: RecordedRequest, body: string, status: number, headers?: HeadersInit) => {
    rec.status = status;
    rec.answer = body;
    return new Response(body, { status, headers: { "content-type": "text/plain", ...headers } });
  };

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const raw = new Uint8Array(await req.arrayBuffer());
    const isBinary = url.pathname.startsWith("/upload/");
    const rec: RecordedRequest = {
      method: req.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(req.headers),
      body: isBinary ? "" : new TextDecoder().decode(raw),
      size: raw.byteLength,
      status: 0,
      answer: "",
    };
    requests.push(rec);
    const authorized = req.headers.get("authorization") === `Bearer ${botToken}`;

    if (url.pathname === "/api/files.getUploadURLExternal") {
      if (!req.headers.get("authorization")) return json(rec, { ok: false, error: "not_authed" });
      if (!authorized) return json(rec, { ok: false, error: "invalid_auth" });
      const form = new URLSearchParams(rec.body);
      const filename = form.get("filename");
      const length = Number(form.get("length"));
      if (!filename || !Number.isInteger(length) || length <= 0) {
        return json(rec, { ok: false, error: "invalid_arguments" });
      }
      const id = `F${String(nextFile++).padStart(8, "0")}`;
      pending.set(id, { filename, length });
      return json(rec, { ok: true, upload_url: `${actualUrl}/upload/${id}?sig=fake`, file_id: id });
    }
    if (isBinary) {
      const id = url.pathname.slice("/upload/".length);
      const file = pending.get(id);
      if (!file || req.method !== "POST") return text(rec, "not_found", 404);
      if (raw.byteLength !== file.length) return text(rec, "length_mismatch", 400);
      file.bytes = raw;
      return text(rec, `OK - ${raw.byteLength}`, 200);
    }
    if (url.pathname === "/api/files.completeUploadExternal") {
      if (!req.headers.get("authorization")) return json(rec, { ok: false, error: "not_authed" });
      if (!authorized) return json(rec, { ok: false, error: "invalid_auth" });
      let body: {
        files?: { id?: string; title?: string }[];
        channel_id?: string;
        initial_comment?: string;
      };
      try {
        body = JSON.parse(rec.body);
      } catch {
        return json(rec, { ok: false, error: "invalid_json" });
      }
      if (!Array.isArray(body.files) || body.files.length === 0) {
        return json(rec, { ok: false, error: "invalid_arguments" });
      }
      for (const f of body.files) {
        const file = f.id ? pending.get(f.id) : undefined;
        if (!file?.bytes) return json(rec, { ok: false, error: "file_not_found" });
      }
      for (const f of body.files) {
        const file = pending.get(f.id!)!;
        pending.delete(f.id!);
        uploads.push({
          id: f.id!,
          filename: file.filename,
          title: f.title,
          channel: body.channel_id,
          comment: body.initial_comment,
          bytes: file.bytes!,
        });
      }
      return json(rec, { ok: true, files: body.files.map((f) => ({ id: f.id, title: f.title })) });
    }

    // The incoming webhook.
    if (req.method !== "POST" || url.pathname !== webhookPath) return text(rec, "no_service", 404);
    const fault = queue.shift() ?? "ok";
    if (fault === "hang") {
      await new Promise<void>((resolve) => {
        if (closed) return resolve();
        hanging.add(resolve);
      });
      return text(rec, "ok", 200);
    }
    if (fault !== "ok") {
      const [status, code] = CODES[fault];
      const headers: Record<string, string> = fault === "rate_limited"
        ? { "retry-after": String(retryAfter) }
        : {};
      return text(rec, code, status, headers);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(rec.body);
    } catch {
      return text(rec, "invalid_payload", 400);
    }
    const problem = validateSlackPayload(payload);
    if (problem) return text(rec, problem, 400);
    messages.push(payload as Record<string, unknown>);
    return text(rec, "ok", 200);
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  const actualUrl = `http://127.0.0.1:${server.addr.port}`;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const release of hanging) release();
    hanging.clear();
    await server.shutdown();
  };
  return {
    url: actualUrl,
    webhookUrl: `https://hooks.slack.com${webhookPath}`,
    botToken,
    requests,
    messages,
    uploads,
    respond(fault: SlackFault, times = 1) {
      for (let i = 0; i < times; i++) queue.push(fault);
    },
    setRetryAfter(seconds: number) {
      retryAfter = seconds;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
