import { startGitServer } from "../../support/git-server.ts";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
for (const auth of [undefined, { username: "u", password: "canary-s3cret" }]) {
  const s = await startGitServer(auth ? { auth } : {});
  const t0 = performance.now();
  const r = await s.createRepo("demo", { "a.txt": "hello\n", "d/b.yaml": "x: 1\n" });
  const c2 = await r.commit({ "a.txt": null, "c.txt": "c" }, "second");
  await r.tag("v1");
  const c3 = await r.commit({ "x.txt": "x" }, "on dev", { branch: "dev" });
  console.log("created", performance.now() - t0, c2, await r.head(), c3, await r.head("dev"), s.requestCount("demo"), s.requestCount());
  const d = mkdtempSync("/tmp/gitwork/clone-");
  const url = auth ? r.url.replace("http://", "http://u:canary-s3cret@") : r.url;
  execFileSync("git", ["clone", "-q", url, d + "/c"], { stdio: "inherit" });
  console.log(execFileSync("git", ["-C", d + "/c", "log", "--oneline", "--all", "--decorate"]).toString());
  try { execFileSync("git", ["ls-remote", r.url], { stdio: "pipe", env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } }); console.log("no-auth ok"); } catch (e) { console.log("no-auth failed as expected?", !!auth); }
  await s.stop();
}
