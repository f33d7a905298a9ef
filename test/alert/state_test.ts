import assert from "node:assert/strict";
import { AlertState, StoreFileError } from "../../lib/alert/state.ts";
import type { Alert } from "../../lib/alert/types.ts";
import { fingerprint } from "../../lib/labels.ts";
import { alert } from "../support/alerts.ts";

const T0 = Date.UTC(2026, 10, 1, 10, 0);
const MIN = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MIN);

async function tempPath(): Promise<{ dir: string; path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-state-" });
  return {
    dir,
    path: `${dir}/alerts.json`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

const kinds = (r: { transitions: { kind: string; alert: Alert }[] }) =>
  r.transitions.map((t) => `${t.kind}:${t.alert.labels.instance}`);

Deno.test("state: fires once, repeats after the interval, resolves once", async () => {
  await using tmp = await tempPath();
  const state = await AlertState.load(tmp.path);
  const a = alert("db:9100");
  assert.deepEqual(kinds(state.update([a], { now: at(0) })), ["firing:db:9100"]);
  for (let m = 5; m < 240; m += 5) {
    assert.deepEqual(kinds(state.update([a], { now: at(m) })), [], `minute ${m}`);
  }
  const repeat = state.update([a], { now: at(240) });
  assert.deepEqual(kinds(repeat), ["repeat:db:9100"]);
  assert.equal(repeat.transitions[0].alert.startsAt, at(0).toISOString());
  assert.deepEqual(kinds(state.update([a], { now: at(245) })), []);
  const resolved = state.update([], { now: at(250) });
  assert.deepEqual(kinds(resolved), ["resolved:db:9100"]);
  assert.equal(resolved.resolved[0].status, "resolved");
  assert.equal(resolved.resolved[0].endsAt, at(250).toISOString());
  assert.deepEqual(kinds(state.update([], { now: at(255) })), []);
  // A new episode fires again.
  assert.deepEqual(kinds(state.update([a], { now: at(260) })), ["firing:db:9100"]);
});

Deno.test("state: pendingFor delays firing; a short condition never notifies", async () => {
  await using tmp = await tempPath();
  const state = await AlertState.load(tmp.path);
  const a = alert("db:9100");
  const opts = (m: number) => ({ now: at(m), pendingFor: "10m" });
  let r = state.update([a], opts(0));
  assert.deepEqual(kinds(r), []);
  assert.equal(r.pending.length, 1);
  assert.equal(state.firing.size, 0);
  r = state.update([], opts(5)); // cleared while pending: dropped silently
  assert.deepEqual(kinds(r), []);
  assert.equal(state.records().length, 0);
  state.update([a], opts(10));
  assert.deepEqual(kinds(state.update([a], opts(15))), []);
  r = state.update([a], opts(20));
  assert.deepEqual(kinds(r), ["firing:db:9100"]);
  assert.deepEqual([...state.firing], [a.fingerprint]);
});

Deno.test("state: survives a reload from disk and orders transitions", async () => {
  await using tmp = await tempPath();
  let state = await AlertState.load(tmp.path);
  state.update([alert("a:9100"), alert("b:9100")], { now: at(0) });
  await state.save();
  state = await AlertState.load(tmp.path);
  assert.equal(state.firing.size, 2);
  assert.equal(state.updatedAt, at(0).toISOString());
  // b resolves, c starts: firing first, then resolved; a stays quiet.
  const r = state.update([alert("a:9100"), alert("c:9100")], { now: at(5) });
  assert.deepEqual(kinds(r), ["firing:c:9100", "resolved:b:9100"]);
  await state.save();
  const again = await AlertState.load(tmp.path);
  assert.deepEqual(
    again.records().map((x) => [x.labels.instance, x.status]),
    [["a:9100", "firing"], ["b:9100", "resolved"], ["c:9100", "firing"]].sort((x, y) =>
      fingerprint({ alertname: "HostHighCpu", instance: x[0] }).localeCompare(
        fingerprint({ alertname: "HostHighCpu", instance: y[0] }),
      )
    ),
  );
  // Only the state file remains: no temporary files left behind.
  const names = [];
  for await (const e of Deno.readDir(tmp.dir)) names.push(e.name);
  assert.deepEqual(names, ["alerts.json"]);
  const file = JSON.parse(await Deno.readTextFile(tmp.path));
  assert.equal(file.version, 1);
});

Deno.test("state: resolved records are pruned after keepResolved", async () => {
  await using tmp = await tempPath();
  const state = await AlertState.load(tmp.path);
  state.update([alert("a:9100")], { now: at(0) });
  state.update([], { now: at(5) });
  state.update([], { now: at(60), keepResolved: "1h" });
  assert.equal(state.records().length, 1);
  state.update([], { now: at(70), keepResolved: "1h" });
  assert.equal(state.records().length, 0);
});

Deno.test("state: a per-alert repeat interval", async () => {
  await using tmp = await tempPath();
  const state = await AlertState.load(tmp.path);
  const a = alert("a:9100", { value: 90, alertname: "HostCpuTrend" });
  const b = alert("b:9100");
  const repeatInterval = (x: Alert) => x.labels.alertname === "HostCpuTrend" ? 86_400 : 3_600;
  state.update([a, b], { now: at(0), repeatInterval });
  assert.deepEqual(kinds(state.update([a, b], { now: at(60), repeatInterval })), [
    "repeat:b:9100",
  ]);
});

Deno.test("state: a corrupted file is never overwritten silently", async () => {
  await using tmp = await tempPath();
  await Deno.writeTextFile(tmp.path, "{ this is not json");
  await assert.rejects(
    () => AlertState.load(tmp.path),
    (e: Error) =>
      e instanceof StoreFileError && e.path === tmp.path &&
      e.message.startsWith(`Alert state file is unreadable: ${tmp.path}: not valid JSON`),
  );
  assert.equal(await Deno.readTextFile(tmp.path), "{ this is not json");

  const state = await AlertState.load(tmp.path, { recover: true });
  assert.equal(state.records().length, 0);
  assert.match(state.recoveredFrom ?? "", /alerts\.json\.corrupt-\d{4}-\d\d-\d\dT/);
  assert.equal(await Deno.readTextFile(state.recoveredFrom!), "{ this is not json");
  await assert.rejects(() => Deno.stat(tmp.path), Deno.errors.NotFound);
});

Deno.test("state: unknown versions and wrong shapes give clear errors", async () => {
  await using tmp = await tempPath();
  await Deno.writeTextFile(tmp.path, JSON.stringify({ version: 2, alerts: [] }));
  await assert.rejects(() => AlertState.load(tmp.path), /unsupported version 2, expected 1/);
  await Deno.writeTextFile(tmp.path, JSON.stringify({ alerts: [] }));
  await assert.rejects(() => AlertState.load(tmp.path), /no version field/);
  await Deno.writeTextFile(
    tmp.path,
    JSON.stringify({ version: 1, updatedAt: "x", alerts: [{ fingerprint: "zz" }] }),
  );
  await assert.rejects(() => AlertState.load(tmp.path), /invalid content at alerts\.0\./);
});

Deno.test("state: bad input gives clear errors", async () => {
  await using tmp = await tempPath();
  const state = await AlertState.load(tmp.path);
  assert.throws(
    () => state.update([alert("a")], { now: at(0), repeatInterval: "4 hours" }),
    (e: Error) => e instanceof RangeError && e.message.startsWith("Invalid repeatInterval:"),
  );
  assert.throws(
    () => state.update([alert("a")], { now: at(0), pendingFor: -1 }),
    /Invalid pendingFor/,
  );
  const bad = { ...alert("a"), labels: { instance: "a" } };
  assert.throws(() => state.update([bad], { now: at(0) }), /labels must include alertname/);
});

Deno.test("state: a quiet evaluation is not dirty, a change is", async () => {
  await using tmp = await tempPath();
  const state = await AlertState.load(tmp.path);
  assert.equal(state.dirty, false);
  state.update([alert("a:9100")], { now: at(0) });
  assert.equal(state.dirty, true);
  await state.save();
  assert.equal(state.dirty, false);
  state.update([alert("a:9100", { value: 97 })], { now: at(5) });
  assert.equal(state.dirty, false); // only the value changed
  state.update([], { now: at(10) });
  assert.equal(state.dirty, true);
});
