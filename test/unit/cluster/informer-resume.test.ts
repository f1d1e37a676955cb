// When the informer's resume point is gone it lists again, through the real KubeClient against a scripted API
// server on loopback: a 410 in an ERROR event (what a restarted kube-apiserver answers an old resourceVersion
// with), a 410 answer, a "too large resource version", and a server that drops every watch (the restart itself).
// Each case ends with the store showing a change made while the informer could not see it.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import type { KubeObject } from "../../../src/api/index.ts";
import { Informer, KubeClient, type ChangeType } from "../../../src/cluster/index.ts";
import { createLogger } from "../../../src/main.ts";

const PATH = "/api/v1/namespaces/demo/configmaps";

/** How the scripted server answers its n-th watch (0-based), asked to resume from resourceVersion. */
type WatchScript = (n: number, res: ServerResponse, server: ScriptedApiServer, resourceVersion: string) => void;

/** A collection of ConfigMaps served as kube-apiserver would: list with a resourceVersion, watch from one. */
class ScriptedApiServer {
  readonly lists: string[] = [];             // the resourceVersion each list answered with
  readonly watches: string[] = [];           // the resourceVersion each watch asked for
  readonly #objects = new Map<string, KubeObject>();
  readonly #sockets = new Set<Socket>();
  #revision = 10;
  readonly #server = createServer((req, res) => this.#handle(req, res));
  url = "";

  readonly #script: WatchScript;

  constructor(script: WatchScript) {
    this.#script = script;
    this.#server.on("connection", (socket) => { this.#sockets.add(socket); socket.on("close", () => this.#sockets.delete(socket)); });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  /** Changes the collection without telling any open watch (as if it happened while the watch was down). */
  put(name: string): void {
    this.#revision++;
    this.#objects.set(name, { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "demo", resourceVersion: String(this.#revision) } });
  }

  remove(name: string): void { this.#revision++; this.#objects.delete(name); }

  get revision(): string { return String(this.#revision); }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", this.url);
    if (url.pathname !== PATH) { res.writeHead(404).end(); return; }
    if (url.searchParams.get("watch")) {
      const resourceVersion = url.searchParams.get("resourceVersion") ?? "";
      this.watches.push(resourceVersion);
      this.#script(this.watches.length - 1, res, this, resourceVersion);
      return;
    }
    this.lists.push(this.revision);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ kind: "ConfigMapList", apiVersion: "v1", metadata: { resourceVersion: this.revision }, items: [...this.#objects.values()] }));
  }
}

/** Holds the watch open (as a healthy server does until timeoutSeconds) until the client goes away. */
const holdOpen: WatchScript = (_n, res) => { res.writeHead(200, { "Content-Type": "application/json" }); res.flushHeaders(); };

/** A Status in an ERROR event, then the server ends the stream, as kube-apiserver does. */
function errorEvent(res: ServerResponse, status: Record<string, unknown>): void {
  res.writeHead(200, { "Content-Type": "application/json" });
  res.write(`${JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", status: "Failure", ...status } })}\n`);
}

const expired = { code: 410, reason: "Expired", message: "too old resource version: 11 (40)" };

const servers: ScriptedApiServer[] = [];
const informers: Informer[] = [];
// Stopped here too, so that a failed assertion cannot leave a watch loop running and the test process alive.
after(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  await Promise.all(servers.map((s) => s.stop()));
});

async function setUp(script: WatchScript) {
  const server = await new ScriptedApiServer(script).start();
  servers.push(server);
  server.put("kept");
  server.put("removed-while-away");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "scripted", server: server.url, skipTLSVerify: true }],
    users: [{ name: "scripted" }],
    contexts: [{ name: "scripted", cluster: "scripted", user: "scripted" }],
    currentContext: "scripted",
  });
  const changes: Array<[ChangeType, string]> = [];
  const relists = { count: 0 };
  const informer = new Informer(new KubeClient(kc), {
    path: PATH, logger: createLogger({ logLevel: "silent" }),
    onChange: (type, obj) => changes.push([type, obj.metadata.name ?? ""]),
    onRelist: () => { relists.count++; },
  });
  informers.push(informer);
  informer.start();
  await informer.waitForSync(5_000);
  return { server, informer, changes, relists };
}

const until = async (check: () => boolean, what: string, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
};

test("a 410 in an ERROR event lists again, and the store shows what changed meanwhile", async () => {
  const { server, informer, changes } = await setUp((n, res, api) => {
    if (n > 0) return holdOpen(n, res, api, "");
    changedWhileAway(api);
    // The connection stays open: the client is the one that ends it, and its reason must be the 410.
    errorEvent(res, expired);
  });
  await until(() => server.lists.length >= 2, "listed again after the 410 event");
  await until(() => server.watches.length >= 2, "watching again after the list");
  assert.deepEqual(server.watches.slice(0, 2), [server.lists[0], server.lists[1]], "the next watch resumes from the new list");
  await seesChangesMadeWhileAway(changes);
  assert.equal(informer.lastError, undefined, "a 410 is not an unreachable server");
  await informer.stop();
});

test("a 410 answer to the watch lists again", async () => {
  const { server, informer, changes } = await setUp((n, res, api) => {
    if (n > 0) return holdOpen(n, res, api, "");
    changedWhileAway(api);
    res.writeHead(410, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", ...expired }));
  });
  await until(() => server.lists.length >= 2, "listed again after the 410 answer");
  await seesChangesMadeWhileAway(changes);
  assert.equal(informer.lastError, undefined);
  await informer.stop();
});

test("a 'too large resource version' from a server that is behind lists again instead of retrying the same position", async () => {
  const { server, informer, changes } = await setUp((n, res, api) => {
    if (n > 0) return holdOpen(n, res, api, "");
    changedWhileAway(api);
    errorEvent(res, { code: 504, reason: "Timeout", message: "Too large resource version: 12, current: 3",
      details: { causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }], retryAfterSeconds: 1 } });
  });
  await until(() => server.lists.length >= 2, "listed again");
  await seesChangesMadeWhileAway(changes);
  await informer.stop();
});

test("a server that drops the watch once is resumed from; one that fails twice (a restart) is listed again", async () => {
  const { server, informer, changes, relists } = await setUp((n, res, api) => {
    // 0: dropped mid-stream (resume), 1 and 2: dropped at once (the server is going down: report it, then list),
    // then: a restarted server, which answers any old position with a 410 in an ERROR event.
    if (n === 0) { res.writeHead(200).flushHeaders(); setTimeout(() => res.socket?.destroy(), 20); return; }
    if (n === 1 || n === 2) { if (n === 1) changedWhileAway(api); res.socket?.destroy(); return; }
    if (api.lists.length < 2) return errorEvent(res, expired);
    holdOpen(n, res, api, "");
  });
  await until(() => server.watches.length >= 2, "reconnected after the first drop");
  assert.equal(server.lists.length, 1, "one dropped watch resumes from its resourceVersion");
  assert.equal(server.watches[1], server.watches[0]);
  await until(() => server.lists.length >= 2, "listed again after two failures in a row");
  await seesChangesMadeWhileAway(changes);
  await until(() => informer.lastError === undefined, "the error clears once the list lands");
  assert.ok(relists.count >= 1, "the relist is announced, so work that failed meanwhile can be redone");
  await informer.stop();
});

/** What happens on the server while the informer is not watching. */
function changedWhileAway(api: ScriptedApiServer): void {
  api.remove("removed-while-away");
  api.put("added-while-away");
}

async function seesChangesMadeWhileAway(changes: Array<[ChangeType, string]>): Promise<void> {
  await until(() => changes.some(([t, n]) => t === "deleted" && n === "removed-while-away"), "the deletion made while away is seen");
  assert.ok(changes.some(([t, n]) => t === "added" && n === "added-while-away"), "the object added while away is seen");
}
