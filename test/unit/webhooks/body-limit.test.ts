// A 100 MB body is refused with 413 and the process does not grow with it: the handler stops reading at the
// cap and closes the connection. The client streams from one reused 64 KiB buffer, so any growth measured is
// the server's.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startReceiver, secrets, type Receiver } from "./samples.ts";
import { hmacSha256Hex } from "../../../src/server/webhooks/index.ts";

let rx: Receiver;
before(async () => { rx = await startReceiver(); });
after(async () => { await rx.close(); });

const TOTAL = 100 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x7b);

/** Streams up to TOTAL bytes; resolves with the status once the server answers or closes, and the bytes sent. */
function stream(url: string, headers: Record<string, string | number>): Promise<{ status: number; sent: number }> {
  return new Promise((resolve) => {
    let sent = 0;
    let status = 0;
    let settled = false;
    const settle = () => { if (!settled) { settled = true; resolve({ status, sent }); } };
    const req = http.request(url, { method: "POST", headers, agent: false }, (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.on("end", settle);
      res.on("error", settle);
      req.destroy();
      settle();
    });
    req.on("error", settle);
    req.on("close", settle);
    const pump = () => {
      while (!settled && sent < TOTAL) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) { req.once("drain", pump); return; }
      }
      if (!settled) req.end();
    };
    pump();
  });
}

async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; growthBytes: number }> {
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growthBytes: peak - base };
  } finally {
    clearInterval(timer);
  }
}

test("a 100 MB chunked body (no Content-Length) is refused with 413, with bounded memory", async () => {
  const { result, growthBytes } = await measure(() => stream(rx.url, {
    "X-GitHub-Event": "push", "X-Hub-Signature-256": `sha256=${hmacSha256Hex("x", secrets.github)}`, "Transfer-Encoding": "chunked",
  }));
  assert.ok(result.status === 413 || result.status === 0, `status ${result.status}`);
  assert.ok(result.sent < TOTAL, `the server must stop the upload early (sent ${result.sent} bytes)`);
  assert.ok(growthBytes < 20 * 1024 * 1024, `rss grew by ${(growthBytes / 1048576).toFixed(1)} MB`);
  assert.equal(rx.pushes.length, 0);
  process.stderr.write(`# 100 MB chunked upload: status ${result.status}, ${result.sent} bytes sent before the server closed, rss +${(growthBytes / 1048576).toFixed(1)} MB\n`);
});

test("a declared 100 MB Content-Length is refused with 413 before any body is read", async () => {
  const { result, growthBytes } = await measure(() => stream(rx.url, {
    "X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=00", "Content-Length": TOTAL,
  }));
  assert.equal(result.status, 413);
  assert.ok(result.sent < TOTAL);
  assert.ok(growthBytes < 20 * 1024 * 1024, `rss grew by ${(growthBytes / 1048576).toFixed(1)} MB`);
});

test("an unconfigured flavour is refused with 401 without reading its 100 MB body", async () => {
  const other = await startReceiver({ secrets: {} });
  try {
    const r = await stream(other.url, { "X-GitHub-Event": "push", "Transfer-Encoding": "chunked" });
    assert.ok(r.status === 401 || r.status === 0, `status ${r.status}`);
    assert.ok(r.sent < TOTAL);
  } finally { await other.close(); }
});
