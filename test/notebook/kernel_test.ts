import assert from "node:assert/strict";
import { Kernel, KernelTimeoutError } from "../../lib/notebook/kernel.ts";
import type { JupyterMessage } from "../../lib/notebook/wire.ts";

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

Deno.test("Kernel starts, executes, flushes, interrupts and shuts down cleanly", async () => {
  const kernel = await Kernel.start({ cwd: "/tmp", env: { OPSBOOK_TEST: "yes" } });
  const pid = kernel.pid;
  try {
    assert.equal(alive(pid), true);
    // Its own process group (killed as a whole on shutdown), and the
    // connection file with the HMAC key is gone once the kernel has read it.
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    assert.equal(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]), pid, "pgid");
    const args = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    assert.deepEqual(args.slice(1, 4), ["jupyter", "--kernel", "--conn"]);
    assert.throws(() => Deno.statSync(args[4]), Deno.errors.NotFound);
    assert.equal(kernel.info.protocol_version, "5.3");
    assert.equal((kernel.info.language_info as Record<string, unknown>).name, "typescript");
    assert.ok(kernel.startMs > 0);
    const seen: JupyterMessage[] = [];
    kernel.onIopub((m) => seen.push(m));
    const { msgId, reply } = await kernel.execute(
      'console.log(Deno.cwd(), Deno.env.get("OPSBOOK_TEST"), Deno.env.get("NO_COLOR")); 6 * 7',
    );
    await kernel.barrier();
    assert.equal(reply.content.status, "ok");
    const mine = seen.filter((m) => m.parent_header.msg_id === msgId).map((m) => m.header.msg_type);
    // execute_result may arrive after idle (the kernel's publish queue drains
    // late); the barrier round trip still collects it.
    assert.deepEqual(mine.toSorted(), [
      "execute_input",
      "execute_result",
      "status",
      "status",
      "stream",
    ]);
    assert.deepEqual(mine.slice(0, 2), ["status", "execute_input"]);
    const stream = seen.find((m) => m.header.msg_type === "stream")!;
    assert.equal(stream.content.text, "/tmp yes 1\n");

    // Interrupt a busy cell through the control channel (V8 termination: a
    // pending timer is not interrupted, which is why the runner kills on timeout).
    const running = kernel.execute("while (true) {}", { timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await kernel.interrupt(), true);
    const interrupted = await running;
    assert.equal(interrupted.reply.content.status, "error");
    const after = await kernel.execute("2");
    assert.equal(after.reply.content.status, "ok");

    await assert.rejects(
      kernel.execute("await new Promise((r) => setTimeout(r, 30_000))", { timeout: 200 }),
      (e) => e instanceof KernelTimeoutError && e.message === "execute_request timed out",
    );
  } finally {
    await kernel.shutdown();
  }
  assert.equal(alive(pid), false);
  const status = await kernel.exited;
  assert.ok(status.code === 0 || status.signal === "SIGTERM", JSON.stringify(status));
  await kernel.shutdown(); // idempotent
});
