// SLACK_WEBHOOK_URL at another host: refused with a pointer to SLACK_BASE_URL; with
// SLACK_BASE_URL a relay (/services/…) and a Mattermost-style /hooks/<id> endpoint both work.
import assert from "node:assert/strict";
import { SlackSink } from "opsbook";
import { alert, notification } from "../support/alerts.ts";
import { startSlackReceiver } from "../support/slack_receiver.ts";
import { runMonitor } from "../support/monitor_process.ts";

const HINT = "for a relay or a Slack-compatible endpoint (Mattermost's /hooks/<id>) at another " +
  "host, also set SLACK_BASE_URL (the sink's baseUrl option) to the origin that webhook posts go " +
  "to instead of hooks.slack.com";

Deno.test("Slack: a webhook URL at another host is refused with a pointer to SLACK_BASE_URL", () => {
  for (
    const webhookUrl of [
      "http://127.0.0.1:8080/services/T0/B0/secret1",
      "https://mm.example/hooks/secret2",
    ]
  ) {
    const error = (() => {
      try {
        new SlackSink({ webhookUrl });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof TypeError, String(error));
    assert.equal(
      error.message,
      `Invalid Slack webhook URL: expected the form https://hooks.slack.com/services/T…/B…/…; ${HINT}`,
    );
  }
  // Slack's own host with a wrong path gets no relay hint, and nothing is echoed.
  const error = (() => {
    try {
      new SlackSink({ webhookUrl: "https://hooks.slack.com/services/secret3" });
    } catch (e) {
      return e as Error;
    }
  })()!;
  assert.equal(
    error.message,
    "Invalid Slack webhook URL: expected the form https://hooks.slack.com/services/T…/B…/…",
  );
});

Deno.test("Slack: a Mattermost-style /hooks/<id> endpoint works with SLACK_BASE_URL", async () => {
  await using mm = startSlackReceiver({ webhookPath: "/hooks/xyz123abc" });
  const sink = SlackSink.fromEnv({
    env: { SLACK_WEBHOOK_URL: `${mm.url}/hooks/xyz123abc`, SLACK_BASE_URL: mm.url },
  })!;
  await sink.send(notification("firing", [alert("web-1:9100")]));
  assert.deepEqual(mm.requests.map((r) => `${r.method} ${r.path}`), ["POST /hooks/xyz123abc"]);
  assert.equal(mm.messages.length, 1);
});

Deno.test("Slack: a relay gets Slack's /services/… path at SLACK_BASE_URL", async () => {
  await using relay = startSlackReceiver();
  const sink = new SlackSink({ webhookUrl: relay.webhookUrl, baseUrl: relay.url });
  await sink.send(notification("firing", [alert("web-1:9100")]));
  assert.deepEqual(relay.requests.map((r) => r.path), [new URL(relay.webhookUrl).pathname]);
});

Deno.test("monitor: SLACK_WEBHOOK_URL at another host exits 2 naming SLACK_BASE_URL, never the URL", async () => {
  const r = await runMonitor(["--once", "--prometheus-url", "http://127.0.0.1:1"], {
    SLACK_WEBHOOK_URL: "http://127.0.0.1:8080/services/T0/B0/topsecret",
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /SLACK_WEBHOOK_URL/);
  assert.ok(r.stderr.includes(HINT), r.stderr);
  assert.ok(!r.stderr.includes("topsecret"), r.stderr);
});
