/**
 * A local Zammad-compatible receiver for tests (Zammad itself cannot be
 * installed here). It enforces the documented contract of the endpoints the
 * Zammad sink uses: `Authorization: Token token=…` (401 without it or with a
 * wrong token), required fields (422), `201` with the ticket JSON on
 * creation, tag search with a state filter, articles and state updates. It
 * records every request and can be told to answer 500, 429 or to hang.
 *
 * @example
 * ```ts ignore
 * await using zammad = startZammadReceiver({ token: "fake-token" });
 * const sink = new ZammadSink({ url: zammad.url, token: "fake-token", group: "Users", customer: "ops@example.com" });
 * ```
 *
 * @module
 */

/** A scripted answer for the next request. */
export type ZammadFault = "server_error" | "rate_limited" | "hang";

/** A ticket held by the receiver. */
export interface FakeTicket {
  /** Ticket id. */
  id: number;
  /** Ticket number (a string in Zammad). */
  number: string;
  /** Title. */
  title: string;
  /** Group name. */
  group: string;
  /** Customer login or email. */
  customer: string;
  /** State name: `new`, `open`, `closed`, … */
  state: string;
  /** Tags. */
  tags: string[];
  /** Articles, oldest first. */
  articles: FakeArticle[];
}

/** An article held by the receiver. */
export interface FakeArticle {
  /** Article id. */
  id: number;
  /** Its ticket. */
  ticket_id: number;
  /** Subject. */
  subject: string;
  /** Body. */
  body: string;
  /** Article type, e.g. `note`. */
  type: string;
  /** Internal note or not. */
  internal: boolean;
}

/** One request the receiver saw. */
export interface ZammadRequest {
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Request headers, lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON body, if any. */
  body: unknown;
  /** The status answered (0 while hanging). */
  status: number;
}

/** Options of {@linkcode startZammadReceiver}. */
export interface ZammadReceiverOptions {
  /** The accepted API token. @default {"zammad-fake-token-0000"} */
  token?: string;
  /** Existing groups. @default {["Users"]} */
  groups?: string[];
  /** Known customers. @default {["monitoring@example.com"]} */
  customers?: string[];
}

/** A running receiver. */
export interface ZammadReceiver extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The accepted token. */
  token: string;
  /** Tickets by id. */
  tickets: Map<number, FakeTicket>;
  /** Every request, in order. */
  requests: ZammadRequest[];
  /** Queues faults for the next requests (`times` each, default 1). */
  respond(fault: ZammadFault, times?: number): void;
  /** Stops the server. */
  close(): Promise<void>;
}

const STATES = new Set(["new", "open", "pending reminder", "pending close", "closed", "merged"]);

function error(status: number, message: string): Response {
  return Response.json({ error: message, error_human: message }, { status });
}

/** Evaluates the subset of Zammad's search syntax the sink uses; null when unsupported. */
function matcher(query: string): ((t: FakeTicket) => boolean) | null {
  const tests: ((t: FakeTicket) => boolean)[] = [];
  for (const term of query.split(/\s+AND\s+/)) {
    const tag = /^tags:([A-Za-z0-9_.-]+)$/.exec(term.trim());
    if (tag) {
      tests.push((t) => t.tags.includes(tag[1]));
      continue;
    }
    const state = /^state\.name:\((.+)\)$/.exec(term.trim()) ??
      /^state\.name:([a-z]+)$/.exec(term.trim());
    if (state) {
      const names = state[1].split(/\s+OR\s+/).map((s) => s.trim().replace(/^"|"$/g, ""));
      tests.push((t) => names.includes(t.state));
      continue;
    }
    return null;
  }
  return (t) => tests.every((f) => f(t));
}

function ticketJson(t: FakeTicket) {
  return {
    id: t.id,
    number: t.number,
    title: t.title,
    group: t.group,
    customer: t.customer,
    state: t.state,
    article_ids: t.articles.map((a) => a.id),
    article_count: t.articles.length,
  };
}

/**
 * Starts the receiver on a free loopback port.
 *
 * @example
 * ```ts ignore
 * await using zammad = startZammadReceiver();
 * ```
 */
export function startZammadReceiver(options: ZammadReceiverOptions = {}): ZammadReceiver {
  const token = options.token ?? "zammad-fake-token-0000";
  const groups = new Set(options.groups ?? ["Users"]);
  const customers = new Set(options.customers ?? ["monitoring@example.com"]);
  const tickets = new Map<number, FakeTicket>();
  const requests: ZammadRequest[] = [];
  const queue: ZammadFault[] = [];
  const hanging = new Set<() => void>();
  let nextTicket = 1;
  let nextArticle = 1;
  let closed = false;

  function article(ticketId: number, a: Record<string, unknown>): FakeArticle | string {
    if (typeof a.body !== "string" || a.body === "") {
      return "Need at least article: { body: '...' }";
    }
    const type = typeof a.type === "string" ? a.type : "note";
    if (!["note", "email", "phone", "web"].includes(type)) return `Invalid article type: ${type}`;
    return {
      id: nextArticle++,
      ticket_id: ticketId,
      subject: typeof a.subject === "string" ? a.subject : "",
      body: a.body,
      type,
      internal: a.internal === true,
    };
  }

  async function route(req: Request, rec: ZammadRequest): Promise<Response> {
    const url = new URL(req.url);
    const auth = req.headers.get("authorization");
    if (auth === null) return error(401, "Authentication required");
    if (auth !== `Token token=${token}`) return error(401, "Invalid token");
    let body: Record<string, unknown> = {};
    if (req.method === "POST" || req.method === "PUT") {
      const text = await req.text();
      try {
        body = JSON.parse(text);
        rec.body = body;
      } catch {
        return error(422, "Invalid JSON");
      }
      if (!body || typeof body !== "object" || Array.isArray(body)) {
        return error(422, "Invalid JSON");
      }
    }
    const fault = queue.shift();
    if (fault === "hang") {
      await new Promise<void>((resolve) => closed ? resolve() : hanging.add(resolve));
      return error(503, "Service unavailable");
    }
    if (fault === "server_error") return error(500, "Internal server error");
    if (fault === "rate_limited") {
      return new Response(JSON.stringify({ error: "Too many requests" }), {
        status: 429,
        headers: { "retry-after": "0", "content-type": "application/json" },
      });
    }

    if (req.method === "GET" && url.pathname === "/api/v1/tickets/search") {
      const match = matcher(url.searchParams.get("query") ?? "");
      if (!match) return error(422, "Unsupported query in the test receiver");
      const limit = Number(url.searchParams.get("limit") ?? "50");
      const found = [...tickets.values()].filter(match).slice(0, limit);
      if (url.searchParams.get("expand") === "true") return Response.json(found.map(ticketJson));
      return Response.json({ tickets: found.map((t) => t.id), tickets_count: found.length });
    }
    if (req.method === "POST" && url.pathname === "/api/v1/tickets") {
      for (const field of ["title", "group", "customer"]) {
        if (typeof body[field] !== "string" || body[field] === "") {
          return error(422, `Missing required field: ${field}`);
        }
      }
      if (!groups.has(body.group as string)) return error(422, "No lookup value found for 'group'");
      if (!customers.has(body.customer as string)) {
        return error(422, "No lookup value found for 'customer'");
      }
      if (!body.article || typeof body.article !== "object") {
        return error(422, "Need at least article: { body: '...' }");
      }
      const id = nextTicket++;
      const first = article(id, body.article as Record<string, unknown>);
      if (typeof first === "string") return error(422, first);
      const tags = typeof body.tags === "string"
        ? body.tags.split(",").map((t) => t.trim()).filter((t) => t !== "")
        : Array.isArray(body.tags)
        ? body.tags.map(String)
        : [];
      const ticket: FakeTicket = {
        id,
        number: String(31000 + id),
        title: body.title as string,
        group: body.group as string,
        customer: body.customer as string,
        state: "new",
        tags,
        articles: [first],
      };
      tickets.set(id, ticket);
      return Response.json(ticketJson(ticket), { status: 201 });
    }
    if (req.method === "POST" && url.pathname === "/api/v1/ticket_articles") {
      const ticket = tickets.get(Number(body.ticket_id));
      if (!ticket) return error(422, "Missing required field: ticket_id");
      const a = article(ticket.id, body);
      if (typeof a === "string") return error(422, a);
      ticket.articles.push(a);
      return Response.json(a, { status: 201 });
    }
    const put = /^\/api\/v1\/tickets\/(\d+)$/.exec(url.pathname);
    if (req.method === "PUT" && put) {
      const ticket = tickets.get(Number(put[1]));
      if (!ticket) return error(404, `Couldn't find Ticket with 'id'=${put[1]}`);
      if (body.state !== undefined && !STATES.has(body.state as string)) {
        return error(422, "No lookup value found for 'state'");
      }
      let a: FakeArticle | undefined;
      if (body.article !== undefined) {
        const made = article(ticket.id, body.article as Record<string, unknown>);
        if (typeof made === "string") return error(422, made);
        a = made;
      }
      if (a) ticket.articles.push(a);
      if (body.state !== undefined) ticket.state = body.state as string;
      return Response.json(ticketJson(ticket));
    }
    return error(404, "No route matches");
  }

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const rec: ZammadRequest = {
      method: req.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(req.headers),
      body: undefined,
      status: 0,
    };
    requests.push(rec);
    const res = await route(req, rec);
    rec.status = res.status;
    return res;
  });
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const release of hanging) release();
    hanging.clear();
    await server.shutdown();
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    token,
    tickets,
    requests,
    respond(fault: ZammadFault, times = 1) {
      for (let i = 0; i < times; i++) queue.push(fault);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
