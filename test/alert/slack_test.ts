import assert from "node:assert/strict";
import { escapeSlack, slackMessage, SlackSink } from "../../lib/alert/sinks/slack.ts";
import { DeliveryError, type Notification } from "../../lib/alert/types.ts";
import { alertFixture, notificationFixture } from "../support/alerts.ts";
import { startSlackReceiver, validateSlackPayload } from "../support/slack_receiver.ts";

const FAKE_WEBHOOK =
  "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
const SECRET_PART = "XXXXXXXXXXXXXXXXXXXXXXXX";
const FAKE_BOT_TOKEN = "xoxb-00000000000-fake-token";

const alert = alertFixture({
  labels: { cloud: "aws", region: "eu-west-1" },
  summary: "CPU usage above 80%",
  startsAt: "2024-05-01T11:55:00Z",
});
const notification = notificationFixture({
  receiver: "slack",
  createdAt: "2024-05-01T12:00:00Z",
  context: {
    evaluatedAt: "2024-05-01T12:00:00Z",
    query: "instance:cpu_usage:percent > 80",
    threshold: 80,
    unit: "%",
    graphURL: "http://prometheus:9090/graph?g0.expr=up&g0.tab=0",
  },
});

function sectionTexts(blocks: ReturnType<typeof slackMessage>["blocks"]): string[] {
  return blocks.flatMap((b) => b.type === "section" ? [b.text.text] : []);
}

Deno.test("slackMessage builds header, host lines, link, context and fallback", () => {
  const message = slackMessage(
    notification("firing", [
      alert("web-01:9100", { value: 93.24 }),
      alert("web-02:9100", { value: 88 }),
    ]),
  );
  assert.deepEqual(message.blocks, [
    {
      type: "header",
      text: { type: "plain_text", text: ":red_circle: FIRING: HostHighCpu — 2 hosts", emoji: true },
    },
    { type: "section", text: { type: "mrkdwn", text: "CPU usage above 80%" } },
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: ":red_circle: *web-01:9100* — 93.2 % (threshold 80 %) · aws · eu-west-1\n" +
          ":red_circle: *web-02:9100* — 88.0 % (threshold 80 %) · aws · eu-west-1",
      },
    },
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: "<http://prometheus:9090/graph?g0.expr=up&amp;g0.tab=0|Open the query in Prometheus>",
      },
    },
    {
      type: "context",
      elements: [{
        type: "mrkdwn",
        text: "Query: `instance:cpu_usage:percent &gt; 80` · Evaluated 2024-05-01 12:00 UTC",
      }],
    },
  ]);
  assert.equal(
    message.text,
    "FIRING: HostHighCpu — 2 hosts: web-01:9100 93.2 %, web-02:9100 88.0 %",
  );
  assert.equal(validateSlackPayload(message), null);
});

Deno.test("slackMessage names each kind in the header", () => {
  const header = (n: Notification) => {
    const b = slackMessage(n).blocks[0];
    return b.type === "header" ? b.text.text : "";
  };
  assert.equal(
    header(notification("repeat", [alert("a", { value: 90 })])),
    ":large_orange_circle: STILL FIRING: HostHighCpu — 1 host",
  );
  assert.equal(
    header(
      notification("resolved", [
        alert("a", { value: 50, status: "resolved", endsAt: "2024-05-01T12:00:00Z" }),
      ]),
    ),
    ":large_green_circle: RESOLVED: HostHighCpu — 1 host",
  );
  const delayed = notification("delayed", [alert("a", { value: 90 }), alert("b", { value: 91 })]);
  assert.equal(
    header(delayed),
    ":hourglass_flowing_sand: DELAYED: HostHighCpu — 2 notifications were delayed",
  );
  const collapsed: Notification = {
    ...delayed,
    delayed: { count: 12, since: "2024-05-01T10:00:00Z", ids: [] },
  };
  assert.equal(
    header(collapsed),
    ":hourglass_flowing_sand: DELAYED: HostHighCpu — 12 notifications were delayed",
  );
  assert.ok(
    sectionTexts(slackMessage(collapsed).blocks).includes(
      "CPU usage above 80%\n_12 notifications were delayed since 2024-05-01 10:00 UTC: " +
        "Slack was unreachable; this is the latest state._",
    ),
  );
  const resolvedLine = sectionTexts(
    slackMessage(notification("resolved", [alert("a", { value: 50, status: "resolved" })])).blocks,
  );
  assert.ok(
    resolvedLine.includes(":white_check_mark: *a* — 50.0 % (threshold 80 %) · aws · eu-west-1"),
  );
});

Deno.test("slackMessage escapes every interpolated value", () => {
  const evil = alert("<!channel>", {
    value: 99,
    annotations: { summary: "x <@U123> & <https://evil|click>", description: "<!here>" },
    labels: { cloud: "<!everyone>", region: "a&b" },
  });
  const n = notification("firing", [evil]);
  n.group = "High<Cpu>";
  n.context.query = "up > 1 <!subteam^S1>";
  const message = slackMessage(n);
  const all = JSON.stringify(message);
  for (
    const raw of ["<!channel>", "<!here>", "<!everyone>", "<@U123>", "<https://evil", "<!subteam"]
  ) {
    assert.ok(!all.includes(raw), `unescaped ${raw}`);
  }
  assert.ok(all.includes("&lt;!channel&gt;"));
  assert.ok(all.includes("a&amp;b"));
  assert.equal(escapeSlack("<a & b>"), "&lt;a &amp; b&gt;");
});

Deno.test("slackMessage keeps 500 hosts within Slack's limits", () => {
  const alerts = Array.from(
    { length: 500 },
    (_, i) => alert(`host-${String(i).padStart(3, "0")}.example:9100`, { value: 80 + (i % 20) }),
  );
  const capped = slackMessage(notification("firing", alerts));
  assert.equal(validateSlackPayload(capped), null);
  const hostLines = sectionTexts(capped.blocks).join("\n").split("\n").filter((l) =>
    l.startsWith(":red_circle:")
  );
  assert.equal(hostLines.length, 100);
  const more = capped.blocks.find((b) =>
    b.type === "context" && b.elements[0].text.startsWith("+")
  );
  assert.deepEqual(more, {
    type: "context",
    elements: [{ type: "mrkdwn", text: "+400 more hosts" }],
  });

  // Without a host cap, the block and section limits still hold.
  const long = alerts.map((a, i) =>
    alert(`${"very-long-host-name-".repeat(20)}${i}`, { value: a.value })
  );
  const full = slackMessage(notification("firing", long), { maxHosts: Infinity });
  assert.equal(validateSlackPayload(full), null);
  assert.ok(full.blocks.length <= 50);
  for (const text of sectionTexts(full.blocks)) assert.ok(text.length <= 3000);
  const shown =
    sectionTexts(full.blocks).join("\n").split("\n").filter((l) => l.startsWith(":red_circle:"))
      .length;
  const last = full.blocks.find((b) => b.type === "context" && b.elements[0].text.startsWith("+"));
  assert.ok(shown < 500);
  assert.deepEqual(last, {
    type: "context",
    elements: [{ type: "mrkdwn", text: `+${500 - shown} more hosts` }],
  });
  assert.ok(full.text.length <= 3000);
});

Deno.test("slackMessage cuts on code points outside entities; Slack's receiver takes it", async () => {
  await using slack = startSlackReceiver();
  const sink = new SlackSink({ webhookUrl: slack.webhookUrl, baseUrl: slack.url, retry: false });
  // An intro of 2,000 emojis (4,000 UTF-16 units): the 3,000 cut falls inside a pair.
  const emoji = notification("firing", [
    alert("🔥".repeat(400), { annotations: { summary: "🔥".repeat(2000) } }),
  ]);
  const m1 = slackMessage(emoji);
  assert.deepEqual(sectionTexts(m1.blocks)[0], "🔥".repeat(1499) + "…");
  // The host is cut before the bold closes around it, on a code point.
  assert.equal(
    sectionTexts(m1.blocks)[1],
    `:red_circle: *${"🔥".repeat(249)}…* — 95.0 % (threshold 80 %) · aws · eu-west-1`,
  );
  assert.equal(m1.text.isWellFormed(), true);
  assert.equal(m1.text, `FIRING: HostHighCpu — 1 host: ${"🔥".repeat(400)} 95.0 %`);
  // An intro of 1,000 "<" (escaped: 4,000 characters): the cut falls inside "&lt;".
  const lt = notification("firing", [
    alert("web-01", { annotations: { summary: "<".repeat(1000) } }),
  ]);
  lt.group = "<".repeat(60);
  const m2 = slackMessage(lt);
  assert.equal(sectionTexts(m2.blocks)[0], "&lt;".repeat(749) + "…");
  assert.deepEqual(m2.blocks[0], {
    type: "header",
    text: {
      type: "plain_text",
      text: `:red_circle: FIRING: ${"&lt;".repeat(32)}…`,
      emoji: true,
    },
  });
  for (const n of [emoji, lt]) await sink.send(n);
  assert.deepEqual(slack.requests.map((r) => `${r.status} ${r.answer}`), ["200 ok", "200 ok"]);
  assert.deepEqual(slack.messages, [m1, m2].map((m) => JSON.parse(JSON.stringify(m))));
  // The receiver refuses what the old cut produced: half an emoji.
  assert.equal(
    validateSlackPayload({
      text: "x",
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "🔥".slice(0, 1) } }],
    }),
    "invalid_payload",
  );
});

Deno.test("slackMessage: a link URL keeps <url|label> whole; mrkdwn in label values is inert", () => {
  const n = notification("firing", [
    alert("*db*_1_~x~`y`", { labels: { cloud: "_aws_", region: "eu|*west*" }, value: 93 }),
  ]);
  n.context.graphURL = "http://prometheus:9090/graph?g0.expr=a|b<c>&g0.tab=0";
  n.context.query = "up{job=`node`} > 1";
  const message = slackMessage(n);
  assert.deepEqual(sectionTexts(message.blocks), [
    "CPU usage above 80%",
    ":red_circle: *\u2217db\u2217\u02cd1\u02cd\u223cx\u223c\u02cby\u02cb* — 93.0 % (threshold 80 %) · " +
    "\u02cdaws\u02cd · eu|\u2217west\u2217",
    "<http://prometheus:9090/graph?g0.expr=a%7Cb%3Cc%3E&amp;g0.tab=0|Open the query in Prometheus>",
  ]);
  assert.deepEqual(message.blocks.at(-1), {
    type: "context",
    elements: [{
      type: "mrkdwn",
      text: "Query: `up{job=\u02cbnode\u02cb} &gt; 1` · Evaluated 2024-05-01 12:00 UTC",
    }],
  });
  // The plain-text fallback (notifications) keeps the values as they are.
  assert.equal(message.text, "FIRING: HostHighCpu — 1 host: *db*_1_~x~`y` 93.0 %");
});
const RELAY_HINT = "for a relay or a Slack-compatible endpoint (Mattermost's /hooks/<id>) at " +
  "another host, also set SLACK_BASE_URL (the sink's baseUrl option) to the origin that webhook " +
  "posts go to instead of hooks.slack.com";

Deno.test("SlackSink rejects a malformed webhook URL without echoing it", () => {
  for (
    const bad of [
      "not a url SECRETPATH",
      "http://hooks.slack.com/services/T0/B0/SECRETPATH",
      "https://example.com/services/T0/B0/SECRETPATH",
      "https://hooks.slack.com/services/SECRETPATH",
    ]
  ) {
    assert.throws(() => new SlackSink({ webhookUrl: bad }), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      const form =
        "Invalid Slack webhook URL: expected the form https://hooks.slack.com/services/T…/B…/…";
      // Another host also gets the pointer to SLACK_BASE_URL (slack_relay_test.ts).
      assert.equal(
        e.message,
        bad.startsWith("https://example.com") ? `${form}; ${RELAY_HINT}` : form,
      );
      assert.ok(!Deno.inspect(e).includes("SECRETPATH"));
      return true;
    });
  }
});

Deno.test("SlackSink posts to the webhook and resolves on 200 ok", async () => {
  await using slack = startSlackReceiver();
  const sink = new SlackSink({ webhookUrl: slack.webhookUrl, baseUrl: slack.url });
  const n = notification("firing", [alert("web-01", { value: 93 })]);
  await sink.send(n);
  assert.equal(slack.requests.length, 1);
  assert.equal(slack.requests[0].path, "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX");
  assert.equal(slack.requests[0].headers["content-type"], "application/json; charset=utf-8");
  assert.deepEqual(slack.messages, [JSON.parse(JSON.stringify(slackMessage(n)))]);
  assert.equal(sink.resendFiring, false);
});

Deno.test("SlackSink waits Retry-After on 429 and retries", async () => {
  await using slack = startSlackReceiver({ retryAfter: 1 });
  slack.respond("rate_limited");
  const sink = new SlackSink({ webhookUrl: slack.webhookUrl, baseUrl: slack.url, maxWaitMs: 3000 });
  await sink.send(notification("firing", [alert("web-01", { value: 93 })]));
  assert.deepEqual(slack.requests.map((r) => r.status), [429, 200]);
  assert.equal(slack.messages.length, 1);
});

Deno.test("SlackSink leaves a long Retry-After to the outbox", async () => {
  await using slack = startSlackReceiver({ retryAfter: 30 });
  slack.respond("rate_limited");
  const sink = new SlackSink({ webhookUrl: slack.webhookUrl, baseUrl: slack.url, maxWaitMs: 3000 });
  await assert.rejects(
    sink.send(notification("firing", [alert("web-01", { value: 93 })])),
    (e: unknown) => {
      assert.ok(e instanceof DeliveryError);
      assert.equal(e.message, "Slack is unavailable: rate_limited (429)");
      assert.equal(e.retriable, true);
      assert.equal(e.retryAfter, 30);
      assert.equal(e.status, 429);
      assert.equal(e.code, "rate_limited");
      return true;
    },
  );
  assert.equal(slack.requests.length, 1);
});

Deno.test("SlackSink retries 5xx with backoff, then gives up retriable", async () => {
  await using slack = startSlackReceiver();
  const sink = new SlackSink({
    webhookUrl: slack.webhookUrl,
    baseUrl: slack.url,
    backoffMs: 20,
    retries: 2,
  });
  slack.respond("server_error", 2);
  await sink.send(notification("firing", [alert("web-01", { value: 93 })]));
  assert.deepEqual(slack.requests.map((r) => r.status), [500, 500, 200]);

  slack.respond("server_error", 3);
  await assert.rejects(
    sink.send(notification("firing", [alert("web-01", { value: 93 })])),
    (e: unknown) => {
      assert.ok(e instanceof DeliveryError);
      assert.equal(e.message, "Slack is unavailable: internal_error (500)");
      assert.equal(e.retriable, true);
      assert.equal(e.status, 500);
      return true;
    },
  );
  assert.equal(slack.requests.length, 6);
});

Deno.test("SlackSink does not retry 400/403/404/410 and names Slack's code", async () => {
  await using slack = startSlackReceiver();
  const sink = new SlackSink({ webhookUrl: slack.webhookUrl, baseUrl: slack.url, backoffMs: 1 });
  const cases = [
    ["invalid_payload", 400],
    ["action_prohibited", 403],
    ["no_service", 404],
    ["channel_is_archived", 410],
  ] as const;
  for (const [code, status] of cases) {
    const before = slack.requests.length;
    slack.respond(code);
    await assert.rejects(
      sink.send(notification("firing", [alert("web-01", { value: 93 })])),
      (e: unknown) => {
        assert.ok(e instanceof DeliveryError);
        assert.equal(e.message, `Slack rejected the message: ${code} (${status})`);
        assert.equal(e.retriable, false);
        assert.equal(e.code, code);
        assert.equal(e.status, status);
        assert.equal(e.sink, "slack");
        return true;
      },
    );
    assert.equal(slack.requests.length, before + 1);
  }
});

Deno.test("SlackSink times out a hanging receiver as retriable", async () => {
  await using slack = startSlackReceiver();
  slack.respond("hang");
  const sink = new SlackSink({
    webhookUrl: slack.webhookUrl,
    baseUrl: slack.url,
    timeoutMs: 200,
    retries: 0,
  });
  await assert.rejects(
    sink.send(notification("firing", [alert("web-01", { value: 93 })])),
    (e: unknown) => {
      assert.ok(e instanceof DeliveryError);
      assert.equal(e.message, "Slack did not answer within 200 ms");
      assert.equal(e.retriable, true);
      assert.equal(e.code, "timeout");
      return true;
    },
  );
});

Deno.test("SlackSink reports an unreachable receiver as retriable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const sink = new SlackSink({
    webhookUrl: FAKE_WEBHOOK,
    baseUrl: `http://127.0.0.1:${port}`,
    retries: 0,
  });
  await assert.rejects(
    sink.send(notification("firing", [alert("web-01", { value: 93 })])),
    (e: unknown) => {
      assert.ok(e instanceof DeliveryError);
      assert.ok(e.message.startsWith("Cannot reach Slack: "), e.message);
      assert.equal(e.retriable, true);
      assert.equal(e.code, "network");
      assert.ok(!Deno.inspect(e).includes(SECRET_PART));
      return true;
    },
  );
});

Deno.test("SlackSink uploads the chart with the bot token", async () => {
  await using slack = startSlackReceiver();
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
  const sink = new SlackSink({
    webhookUrl: slack.webhookUrl,
    baseUrl: slack.url,
    botToken: slack.botToken,
    channel: "C0123456789",
    apiUrl: `${slack.url}/api`,
    chart: () => png,
  });
  assert.equal(sink.uploads, true);
  await sink.send(notification("firing", [alert("web-01", { value: 93 })]));
  assert.deepEqual(slack.requests.map((r) => r.path.replace(/\?.*/, "")), [
    "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "/api/files.getUploadURLExternal",
    "/upload/F00000001",
    "/api/files.completeUploadExternal",
  ]);
  assert.equal(slack.uploads.length, 1);
  assert.deepEqual(slack.uploads[0], {
    id: "F00000001",
    filename: "HostHighCpu.png",
    title: "HostHighCpu (firing)",
    channel: "C0123456789",
    comment: undefined,
    bytes: png,
  });
});

Deno.test("a failed upload is reported, not thrown, and never shows the token", async () => {
  await using slack = startSlackReceiver();
  const errors: DeliveryError[] = [];
  const wrongToken = "xoxb-99999999999-wrong-fake-token";
  const sink = new SlackSink({
    webhookUrl: slack.webhookUrl,
    baseUrl: slack.url,
    botToken: wrongToken,
    channel: "C0123456789",
    apiUrl: `${slack.url}/api`,
    chart: () => new Uint8Array([1, 2, 3]),
    onUploadError: (e) => errors.push(e),
  });
  await sink.send(notification("firing", [alert("web-01", { value: 93 })]));
  assert.equal(slack.messages.length, 1);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].message, "Slack rejected files.getUploadURLExternal: invalid_auth");
  assert.equal(errors[0].retriable, false);
  assert.ok(!Deno.inspect(errors[0]).includes(wrongToken));
});

Deno.test("the webhook URL and token never appear in anything printed or thrown", async () => {
  await using slack = startSlackReceiver();
  const printed: string[] = [];
  const saved = { log: console.log, warn: console.warn, error: console.error, info: console.info };
  for (const k of ["log", "warn", "error", "info"] as const) {
    console[k] = (...args: unknown[]) => printed.push(args.map((a) => Deno.inspect(a)).join(" "));
  }
  try {
    const sink = new SlackSink({
      webhookUrl: slack.webhookUrl,
      baseUrl: slack.url,
      botToken: FAKE_BOT_TOKEN,
      channel: "C0123456789",
      apiUrl: `${slack.url}/api`,
      chart: () => new Uint8Array([1]),
      backoffMs: 1,
      timeoutMs: 200,
    });
    printed.push(String(sink), JSON.stringify(sink), Deno.inspect(sink));
    slack.setRetryAfter(0);
    for (const fault of ["no_service", "server_error", "rate_limited", "hang"] as const) {
      slack.respond(fault, fault === "no_service" ? 1 : 3);
      try {
        await sink.send(notification("firing", [alert("web-01", { value: 93 })]));
      } catch (e) {
        printed.push(Deno.inspect(e), String(e), JSON.stringify(e), (e as Error).stack ?? "");
      }
    }
    // A chart upload that fails goes through the default console.warn.
    await slack.close();
    const offline = new SlackSink({
      webhookUrl: slack.webhookUrl,
      baseUrl: slack.url,
      botToken: FAKE_BOT_TOKEN,
      channel: "C0123456789",
      retries: 0,
    });
    await offline.send(notification("firing", [alert("web-01", { value: 93 })])).catch((e) =>
      printed.push(Deno.inspect(e), (e as Error).stack ?? "")
    );
    await offline.uploadFile(new Uint8Array([1]), {}).catch((e) => printed.push(Deno.inspect(e)));
  } finally {
    Object.assign(console, saved);
  }
  const all = printed.join("\n");
  assert.ok(all.includes("Slack rejected the message: no_service (404)"));
  assert.ok(all.includes("SlackSink(slack)"));
  assert.ok(!all.includes(SECRET_PART), "webhook secret leaked");
  assert.ok(!all.includes(FAKE_BOT_TOKEN), "bot token leaked");
});

Deno.test("SlackSink takes the client's retry shape: retry: { limit, delayMs } and false", async () => {
  await using slack = startSlackReceiver();
  const sink = new SlackSink({
    webhookUrl: slack.webhookUrl,
    baseUrl: slack.url,
    retry: { limit: 1, delayMs: 1 },
  });
  slack.respond("server_error", 2);
  await assert.rejects(sink.send(notification("firing", [alert("web-01", { value: 93 })])));
  assert.deepEqual(slack.requests.map((r) => r.status), [500, 500]);

  const once = new SlackSink({ webhookUrl: slack.webhookUrl, baseUrl: slack.url, retry: false });
  slack.respond("server_error", 1);
  await assert.rejects(once.send(notification("firing", [alert("web-01", { value: 93 })])));
  assert.equal(slack.requests.length, 3);
});
