import { test } from "node:test";
import assert from "node:assert/strict";
import { pickCredentials } from "../../../src/controller/credentials.ts";
import type { KubeObject } from "../../../src/api/index.ts";

const secret = (name: string, type: string, data: Record<string, string>): KubeObject => ({
  apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "tack-system", labels: { "tack.dev/secret-type": type } }, stringData: data,
});

const secrets = [
  secret("org", "repo-creds", { url: "https://git.example.com/org", username: "org-bot", password: "org-pass" }),
  secret("team", "repo-creds", { url: "https://git.example.com/org/team/", username: "team-bot", token: "team-token" }),
  secret("exact", "repository", { url: "https://git.example.com/org/team/special.git", username: "special", password: "special-pass" }),
  secret("other", "something-else", { url: "https://git.example.com/org", username: "nope", password: "nope" }),
];

test("an exact repository Secret wins over templates", () => {
  assert.deepEqual(pickCredentials(secrets, "https://git.example.com/org/team/special"), { username: "special", password: "special-pass" });
});

test("the longest repo-creds prefix wins; a token is used as the password", () => {
  assert.deepEqual(pickCredentials(secrets, "https://git.example.com/org/team/app.git"), { username: "team-bot", password: "team-token" });
  assert.deepEqual(pickCredentials(secrets, "https://git.example.com/org/infra.git"), { username: "org-bot", password: "org-pass" });
});

test("no match, and Secrets of other types, give no credentials", () => {
  assert.equal(pickCredentials(secrets, "https://elsewhere.example.com/org/x.git"), undefined);
  assert.equal(pickCredentials([secrets[3]!], "https://git.example.com/org/x.git"), undefined);
});
