import assert from "node:assert/strict";
import { Logger } from "../../lib/monitor/log.ts";

const now = () => new Date("2026-11-01T10:00:00Z");

Deno.test("Logger: logfmt quoting and levels", () => {
  const lines: string[] = [];
  const log = new Logger({ stdout: false, onLine: (l) => lines.push(l), now, level: "info" });
  log.debug("hidden");
  log.info("evaluation", { hosts: 12, ok: true, msg: 'a "b" c', empty: "", skip: undefined });
  log.error("failed", { error: new Error("boom: x=1") });
  assert.deepEqual(lines, [
    'ts=2026-11-01T10:00:00.000Z level=info event=evaluation hosts=12 ok=true msg="a \\"b\\" c" empty=""',
    'ts=2026-11-01T10:00:00.000Z level=error event=failed error="boom: x=1"',
  ]);
});

Deno.test("Logger: JSON lines keep types", () => {
  const lines: string[] = [];
  const log = new Logger({ stdout: false, onLine: (l) => lines.push(l), now, format: "json" });
  log.warn("x", { n: 1.5, b: false, s: "v", at: new Date(0) });
  assert.deepEqual(JSON.parse(lines[0]), {
    ts: "2026-11-01T10:00:00.000Z",
    level: "warn",
    event: "x",
    n: 1.5,
    b: false,
    s: "v",
    at: "1970-01-01T00:00:00.000Z",
  });
});

Deno.test("Logger: secrets, URL credentials and tokens are redacted", () => {
  const lines: string[] = [];
  const hook = "https://hooks.slack.com/services/T1/B2/sekret";
  const log = new Logger({ stdout: false, onLine: (l) => lines.push(l), now, secrets: [hook] });
  log.error("delivery_failed", {
    error: `POST ${hook} failed`,
    url: "http://u:pw@prom:9090/api?token=abc",
    header: "Authorization: Bearer abc.def",
  });
  log.addSecrets("late-secret");
  log.info("x", { note: "has late-secret inside" });
  const text = lines.join("\n");
  for (const s of ["sekret", "pw@", "token=abc", "abc.def", "late-secret"]) {
    assert.ok(!text.includes(s), `${s} leaked: ${text}`);
  }
  assert.ok(text.includes("POST *** failed"));
});

Deno.test("Logger: file with size-based rotation", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/monitor.log`;
    const log = new Logger({ stdout: false, file, maxBytes: 200, maxFiles: 2, now });
    // Each line is 66 bytes: three fit in 200, the fourth rotates.
    for (let i = 0; i < 10; i++) log.info("line", { i: String(i).padStart(2, "0") });
    log.close();
    const current = await Deno.readTextFile(file);
    const one = await Deno.readTextFile(`${file}.1`);
    const two = await Deno.readTextFile(`${file}.2`);
    const count = (t: string) => t.trimEnd().split("\n").length;
    assert.equal(count(current), 1);
    assert.equal(count(one), 3);
    assert.equal(count(two), 3);
    assert.ok(current.includes("i=09"));
    assert.ok(one.includes("i=06") && one.includes("i=08"));
    assert.ok(two.includes("i=03") && two.includes("i=05"));
    await assert.rejects(Deno.stat(`${file}.3`));
    for (const t of [current, one, two]) {
      for (const line of t.trimEnd().split("\n")) {
        assert.ok(new TextEncoder().encode(line).length < 200);
      }
    }
    // Reopening appends.
    const again = new Logger({ stdout: false, file, maxBytes: 200, maxFiles: 2, now });
    again.info("line", { i: "10" });
    again.close();
    assert.equal(count(await Deno.readTextFile(file)), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
