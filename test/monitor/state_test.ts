import assert from "node:assert/strict";
import { AlertState } from "../../lib/alert/state.ts";
import { writableFileProblem } from "../../lib/monitor/paths.ts";
import { alert } from "../support/alerts.ts";
import { runMonitor } from "../support/monitor_process.ts";

// Nothing listens on port 1: every evaluation fails fast, so `--once` exits 1
// after start-up (and 2 when start-up itself refuses).
const UNREACHABLE = ["--prometheus-url", "http://127.0.0.1:1"];

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

function field(line: string, name: string): string | undefined {
  const m = line.match(new RegExp(`(?:^| )${name}=("(?:[^"\\\\]|\\\\.)*"|\\S*)`));
  if (!m) return undefined;
  return m[1].startsWith('"') ? JSON.parse(m[1]) : m[1];
}

Deno.test("writableFileProblem: names the first component at fault", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/file`, "x");
    assert.equal(writableFileProblem(`${dir}/state.json`), undefined);
    assert.equal(writableFileProblem(`${dir}/file`), undefined); // exists, writable
    assert.equal(
      writableFileProblem("/nonexistent/deeper/state.json"),
      "folder /nonexistent does not exist",
    );
    assert.equal(writableFileProblem(`${dir}/a/b/c.json`), `folder ${dir}/a does not exist`);
    assert.equal(
      writableFileProblem(`${dir}/file/state.json`),
      `${dir}/file is a file, not a folder`,
    );
    assert.equal(
      writableFileProblem(`${dir}/file/x/state.json`),
      `${dir}/file is a file, not a folder`,
    );
    assert.equal(writableFileProblem(dir), `${dir} is a folder`);
    assert.equal(
      writableFileProblem("/proc/state.json"),
      "cannot create files in folder /proc: it does not accept new files",
    );
    assert.equal(writableFileProblem(""), "the path is empty");
    assert.deepEqual(await names(dir), ["file"]); // the probe left nothing behind
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("monitor CLI: a bad --state or --log-file path is one line and exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/file`, "x");
    const cases: { args?: string[]; env?: Record<string, string>; err: string }[] = [
      {
        args: ["--state", "/nonexistent/deeper/state.json"],
        err: "Invalid state from flag --state: cannot use /nonexistent/deeper/state.json: " +
          "folder /nonexistent does not exist (fix it or choose another --state)",
      },
      {
        args: ["--state", "/proc/opsbook/state.json"],
        err: "Invalid state from flag --state: cannot use /proc/opsbook/state.json: " +
          "folder /proc/opsbook does not exist (fix it or choose another --state)",
      },
      {
        args: ["--state", "/proc/state.json"],
        err: "Invalid state from flag --state: cannot use /proc/state.json: cannot create files " +
          "in folder /proc: it does not accept new files (fix it or choose another --state)",
      },
      {
        env: { OPSBOOK_STATE: `${dir}/file/state.json` },
        err:
          `Invalid state from environment variable OPSBOOK_STATE: cannot use ${dir}/file/state.json: ` +
          `${dir}/file is a file, not a folder (fix it or choose another --state)`,
      },
      {
        args: ["--state", dir],
        err: `Invalid state from flag --state: cannot use ${dir}: ${dir} is a folder ` +
          "(fix it or choose another --state)",
      },
      {
        args: ["--state", `${dir}/s.json`, "--log-file", "/nonexistent/opsbook.log"],
        err: "Invalid logFile from flag --log-file: cannot use /nonexistent/opsbook.log: " +
          "folder /nonexistent does not exist (fix it or choose another --log-file)",
      },
    ];
    for (const c of cases) {
      for (const mode of [["--once"], []]) {
        const r = await runMonitor([...UNREACHABLE, ...mode, ...(c.args ?? [])], c.env);
        const label = JSON.stringify({ mode, ...c });
        assert.equal(r.code, 2, `${label}\n${r.stderr}`);
        assert.equal(r.stderr, `opsbook monitor: ${c.err}\n`, label);
      }
    }
    assert.deepEqual(await names(dir), ["file"]); // nothing created
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("monitor CLI: a corrupted state or outbox refuses to start, --recover sets it aside", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [file, what] of [["state.json", "Alert state"], ["state.outbox.json", "Outbox"]]) {
      const state = `${dir}/state.json`;
      const path = `${dir}/${file}`;
      await Deno.writeTextFile(path, "{not json");
      const refused = await runMonitor([...UNREACHABLE, "--once", "--state", state]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(
        refused.stderr,
        new RegExp(
          `^opsbook monitor: ${what} file is unreadable: ${path}: not valid JSON: .*; ` +
            `it was left untouched \\(to keep it as ${path}\\.corrupt-<time> and start fresh, ` +
            `run the monitor with --recover or pass recover: true\\)\\n$`,
        ),
      );
      assert.equal(await Deno.readTextFile(path), "{not json");

      const recovered = await runMonitor([...UNREACHABLE, "--once", "--recover", "--state", state]);
      assert.equal(recovered.code, 1, recovered.stderr); // started; the evaluation failed
      const line = recovered.lines.find((l) => l.includes("event=state_recovered"));
      assert.ok(line, recovered.lines.join("\n"));
      assert.equal(field(line, "level"), "warn");
      assert.equal(field(line, "file"), path);
      const aside = field(line, "moved_to")!;
      assert.match(
        aside,
        new RegExp(`^${path}\\.corrupt-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d-\\d{3}Z$`),
      );
      assert.equal(await Deno.readTextFile(aside), "{not json");
      await Deno.remove(aside);
      // And the next start is a normal one.
      const again = await runMonitor([...UNREACHABLE, "--once", "--state", state]);
      assert.equal(again.code, 1, again.stderr);
      assert.ok(!again.lines.some((l) => l.includes("state_recovered")));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("monitor CLI: a corrupted state.monitor.json is logged and its hosts rebuilt", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const statePath = `${dir}/state.json`;
    const meta = `${dir}/state.monitor.json`;
    for (const corrupt of ['{"version":1,"failures":2,"hosts":', '{"version":7}', "[]"]) {
      // (The run below prunes the old resolved record: write the state afresh each time.)
      await Deno.remove(statePath).catch(() => {});
      const state = await AlertState.load(statePath);
      // web-01 fires, db-01 fired and resolved, host "gone" stopped reporting; MonitoringBlind has no host.
      state.update([
        alert("web-01:9100"),
        alert("db-01:9100"),
        alert("gone:9100", { alertname: "HostStoppedReporting" }),
        {
          ...alert("x", { alertname: "MonitoringBlind" }),
          labels: { alertname: "MonitoringBlind" },
        },
      ], { now: "2026-11-01T10:00:00Z" });
      state.update(
        [alert("web-01:9100"), alert("gone:9100", { alertname: "HostStoppedReporting" })],
        {
          now: "2026-11-01T10:05:00Z",
        },
      );
      await state.save();
      await Deno.writeTextFile(meta, corrupt);
      const r = await runMonitor([...UNREACHABLE, "--once", "--state", statePath]);
      assert.equal(r.code, 1, r.stderr);
      const line = r.lines.find((l) => l.includes("event=monitor_state_unreadable"));
      assert.ok(line, r.lines.join("\n"));
      assert.equal(field(line, "level"), "warn");
      assert.equal(field(line, "file"), meta);
      assert.equal(field(line, "hosts_rebuilt"), "3");
      const aside = field(line, "moved_to")!;
      assert.equal(await Deno.readTextFile(aside), corrupt);
      await Deno.remove(aside);
      const saved = JSON.parse(await Deno.readTextFile(meta));
      assert.deepEqual(saved.hosts, {
        "db-01:9100": {
          labels: { instance: "db-01:9100" },
          lastSeen: Date.parse("2026-11-01T10:00:00Z"),
        },
        "gone:9100": {
          labels: { instance: "gone:9100" },
          lastSeen: Date.parse("2026-11-01T10:00:00Z"),
        },
        "web-01:9100": {
          labels: { instance: "web-01:9100" },
          lastSeen: Date.parse("2026-11-01T10:05:00Z"),
        },
      });
      assert.equal(saved.failures, 1); // reset, then this run's failed evaluation
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
