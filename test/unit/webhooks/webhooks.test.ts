import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { agent, samples, secrets, send, SHA, startReceiver, type Receiver } from "./samples.ts";
import { refName, verifyHmacSha256, hmacSha256Hex, safeEqual } from "../../../src/server/webhooks/index.ts";

let rx: Receiver;
before(async () => { rx = await startReceiver(); });
after(async () => { await rx.close(); agent.destroy(); });

function sorted(p: { repoURLs: string[]; revisions: string[]; changedFiles?: string[] }) {
  return {
    repoURLs: [...p.repoURLs].sort(), revisions: [...p.revisions].sort(),
    ...(p.changedFiles ? { changedFiles: [...p.changedFiles].sort() } : {}),
  };
}

describe("each flavour", () => {
  for (const s of samples) {
    describe(s.flavour, () => {
      const raw = Buffer.from(JSON.stringify(s.body));
      test("a valid push calls onPush once with its repository URLs, revisions and changed files", async () => {
        rx.pushes.length = 0;
        const r = await send(rx.url, { headers: { "Content-Type": "application/json", ...s.headers(raw) }, body: raw });
        assert.equal(r.status, 200, r.text);
        assert.equal(rx.pushes.length, 1);
        assert.deepEqual(sorted(rx.pushes[0]!), sorted(s.expect));
      });
      test("a forged signature or token gets 401 and refreshes nothing", async () => {
        rx.pushes.length = 0;
        const r = await send(rx.url, { headers: s.forged(raw), body: raw });
        assert.equal(r.status, 401);
        assert.equal(rx.pushes.length, 0);
      });
      test("a missing signature or token gets 401", async () => {
        rx.pushes.length = 0;
        const headers = s.headers(raw);
        for (const k of Object.keys(headers)) if (/signature|token|uuid/i.test(k) && !/request/i.test(k)) delete headers[k];
        // Without its UUID a Bitbucket Cloud request reads as Bitbucket Server, whose signature is then missing.
        const r = await send(rx.url, { headers, body: raw });
        assert.ok(r.status === 401 || (s.flavour === "generic" && r.status === 400), `${r.status} ${r.text}`);
        assert.equal(rx.pushes.length, 0);
      });
      test("a signed body that was altered afterwards gets 401", async () => {
        if (s.flavour === "gitlab" || s.flavour === "bitbucket") return;  // token flavours do not sign bodies
        rx.pushes.length = 0;
        const altered = Buffer.from(raw.toString("utf8").replace(SHA, "0".repeat(39) + "1"));
        const r = await send(rx.url, { headers: s.headers(raw), body: altered });
        assert.equal(r.status, 401);
        assert.equal(rx.pushes.length, 0);
      });
      test("unconfigured: 401 even with a signature made with an empty secret", async () => {
        const other = await startReceiver({ secrets: { ...secrets, [s.flavour]: undefined } });
        try {
          const r = await send(other.url, { headers: s.headers(raw, ""), body: raw });
          assert.ok(r.status === 401 || r.status === 400, `${r.status}`);
          assert.equal(other.pushes.length, 0);
        } finally { await other.close(); }
      });
      test("signed but not JSON: 400; signed JSON of the wrong shape: 400; never onPush", async () => {
        rx.pushes.length = 0;
        for (const body of [Buffer.from("{not json"), Buffer.from('{"ref": 5}'), Buffer.from("[]"), Buffer.from("null")]) {
          const r = await send(rx.url, { headers: s.headers(body), body });
          assert.equal(r.status, 400, `${body}: ${r.status} ${r.text}`);
        }
        assert.equal(rx.pushes.length, 0);
      });
    });
  }
});

describe("requests that are not pushes", () => {
  test("GET and HEAD get 405 with Allow: POST", async () => {
    for (const method of ["GET", "HEAD", "PUT"]) {
      const r = await send(rx.url, { method });
      assert.equal(r.status, 405);
    }
  });
  test("no known flavour header: 400", async () => {
    const r = await send(rx.url, { headers: { "Content-Type": "application/json" }, body: "{}" });
    assert.equal(r.status, 400);
  });
  test("an authenticated non-push event (GitHub ping) is answered 200 and ignored", async () => {
    rx.pushes.length = 0;
    const body = Buffer.from(JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 }));
    const r = await send(rx.url, { headers: { "X-GitHub-Event": "ping", "X-Hub-Signature-256": `sha256=${hmacSha256Hex(body, secrets.github)}` }, body });
    assert.equal(r.status, 200);
    assert.equal(rx.pushes.length, 0);
  });
  test("an unauthenticated ping is 401 all the same", async () => {
    const r = await send(rx.url, { headers: { "X-GitHub-Event": "ping" }, body: "{}" });
    assert.equal(r.status, 401);
  });
  test("a declared Content-Length over the cap: 413 before reading", async () => {
    const small = await startReceiver({ maxBodyBytes: 1000 });
    try {
      const body = Buffer.alloc(2000, 0x20);
      const r = await send(small.url, { headers: { "X-GitHub-Event": "push", "X-Hub-Signature-256": `sha256=${hmacSha256Hex(body, secrets.github)}` }, body });
      assert.equal(r.status, 413);
      assert.equal(small.pushes.length, 0);
    } finally { await small.close(); }
  });
  test("a deleted branch (after = zeros) names the branch but no SHA", async () => {
    rx.pushes.length = 0;
    const body = Buffer.from(JSON.stringify({ ref: "refs/heads/old", after: "0".repeat(40), deleted: true, repository: { html_url: "https://github.com/acme/config", default_branch: "main" }, commits: [] }));
    const r = await send(rx.url, { headers: { "X-GitHub-Event": "push", "X-Hub-Signature-256": `sha256=${hmacSha256Hex(body, secrets.github)}` }, body });
    assert.equal(r.status, 200);
    assert.deepEqual(rx.pushes[0], { repoURLs: ["https://github.com/acme/config"], revisions: ["old"] });
  });
  test("GitHub's 20-commit list may be cut: changedFiles is then unknown", async () => {
    rx.pushes.length = 0;
    const commits = Array.from({ length: 20 }, (_, i) => ({ id: String(i), added: [`f${i}`], modified: [], removed: [] }));
    const body = Buffer.from(JSON.stringify({ ref: "refs/heads/main", after: SHA, repository: { html_url: "https://github.com/a/b", default_branch: "main" }, commits }));
    await send(rx.url, { headers: { "X-GitHub-Event": "push", "X-Hub-Signature-256": `sha256=${hmacSha256Hex(body, secrets.github)}` }, body });
    assert.equal(rx.pushes[0]?.changedFiles, undefined);
  });
  test("a secret rotated in the Secret applies to the next request", async () => {
    const body = Buffer.from(JSON.stringify(samples[0]!.body));
    rx.secrets.github = "rotated";
    try {
      assert.equal((await send(rx.url, { headers: samples[0]!.headers(body), body })).status, 401);
      assert.equal((await send(rx.url, { headers: samples[0]!.headers(body, "rotated"), body })).status, 200);
    } finally { rx.secrets.github = secrets.github; }
  });
});

describe("verification helpers", () => {
  test("verifyHmacSha256 accepts upper-case hex, refuses wrong length, empty secret, missing prefix", () => {
    const body = Buffer.from("x");
    const hex = hmacSha256Hex(body, "k");
    assert.equal(verifyHmacSha256(body, "k", hex.toUpperCase()), true);
    assert.equal(verifyHmacSha256(body, "k", `sha256=${hex}`, "sha256="), true);
    assert.equal(verifyHmacSha256(body, "k", hex, "sha256="), false);
    assert.equal(verifyHmacSha256(body, "k", hex.slice(2)), false);
    assert.equal(verifyHmacSha256(body, "", hmacSha256Hex(body, "")), false);
    assert.equal(verifyHmacSha256(body, "k", undefined), false);
  });
  test("safeEqual compares strings of any length", () => {
    assert.equal(safeEqual("abc", "abc"), true);
    assert.equal(safeEqual("abc", "abcd"), false);
    assert.equal(safeEqual("", ""), true);
  });
  test("refName strips refs/heads/ and refs/tags/ only", () => {
    assert.equal(refName("refs/heads/feature/x"), "feature/x");
    assert.equal(refName("refs/tags/v1"), "v1");
    assert.equal(refName("refs/pull/1/head"), "refs/pull/1/head");
  });
});

describe("fuzz: random input never crashes and never refreshes without a valid signature", () => {
  const headerSets = samples.map((s) => s.forged(Buffer.alloc(0)));

  test("random bytes with every flavour's headers (forged)", async () => {
    rx.pushes.length = 0;
    for (let i = 0; i < 300; i++) {
      const headers = headerSets[i % headerSets.length]!;
      const body = randomBytes(Math.floor(Math.random() * 4096));
      const r = await send(rx.url, { headers, body });
      assert.ok([400, 401].includes(r.status), `${r.status}`);
    }
    assert.equal(rx.pushes.length, 0);
  });

  test("random bytes and random JSON, correctly signed, are 200 or 400 and never throw", async () => {
    rx.pushes.length = 0;
    let pushes = 0;
    for (let i = 0; i < 400; i++) {
      const s = samples[i % samples.length]!;
      const body = i % 2 === 0 ? randomBytes(Math.floor(Math.random() * 2048)) : Buffer.from(JSON.stringify(mutate(s.body, 3)));
      const r = await send(rx.url, { headers: s.headers(body), body });
      assert.ok([200, 400].includes(r.status), `${s.flavour}: ${r.status} ${r.text}`);
      if (r.status === 200) pushes++;
    }
    // Every push that got through had a valid signature, and named at least one repository.
    assert.equal(rx.pushes.length, pushes);
    for (const p of rx.pushes) assert.ok(p.repoURLs.length > 0 && p.repoURLs.every((u) => typeof u === "string"));
  });

  test("random JSON values of every type with random headers", async () => {
    rx.pushes.length = 0;
    for (let i = 0; i < 200; i++) {
      const s = samples[i % samples.length]!;
      const body = Buffer.from(JSON.stringify(randomJson(4)));
      const headers = i % 3 === 0 ? s.forged(body) : Object.fromEntries(Object.entries(s.headers(body)).map(([k, v]) => [k, i % 3 === 1 ? v.slice(0, -1) : `${v}0`]));
      const r = await send(rx.url, { headers, body });
      assert.ok([400, 401].includes(r.status), `${s.flavour}: ${r.status}`);
    }
    assert.equal(rx.pushes.length, 0);
  });

  test("deeply nested JSON, signed, is refused cleanly", async () => {
    const body = Buffer.from("[".repeat(200_000) + "]".repeat(200_000));
    const s = samples[0]!;
    const r = await send(rx.url, { headers: s.headers(body), body });
    assert.equal(r.status, 400);
  });
});

function randomJson(depth: number): unknown {
  const r = Math.random();
  if (depth <= 0 || r < 0.3) {
    const leaves = [null, true, false, 0, -1, 1e308, "", "x".repeat(Math.floor(Math.random() * 50)), "refs/heads/main", "https://h/x", "\u0000\uffff"];
    return leaves[Math.floor(Math.random() * leaves.length)];
  }
  if (r < 0.6) return Array.from({ length: Math.floor(Math.random() * 4) }, () => randomJson(depth - 1));
  const keys = ["ref", "after", "repository", "commits", "push", "changes", "project", "links", "html", "href", "clone", "url", "__proto__", "constructor"];
  const obj: Record<string, unknown> = {};
  for (let i = 0; i < Math.floor(Math.random() * 5); i++) obj[keys[Math.floor(Math.random() * keys.length)]!] = randomJson(depth - 1);
  return obj;
}

/** The sample with a few random fields deleted or replaced by random values of any type. */
function mutate(value: unknown, edits: number): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as unknown;
  for (let e = 0; e < edits; e++) {
    let node = copy;
    for (let d = 0; d < 4; d++) {
      if (node === null || typeof node !== "object") break;
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const key = keys[Math.floor(Math.random() * keys.length)]!;
      const child = (node as Record<string, unknown>)[key];
      if (Math.random() < 0.35 || child === null || typeof child !== "object") {
        if (Math.random() < 0.5) delete (node as Record<string, unknown>)[key];
        else (node as Record<string, unknown>)[key] = randomJson(2);
        break;
      }
      node = child;
    }
  }
  return copy;
}
