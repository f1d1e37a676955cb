import { test } from "node:test";
import assert from "node:assert/strict";
import { pickCredentials } from "../../../src/controller/credentials.ts";
import type { KubeObject } from "../../../src/api/index.ts";

const URL = "https://git.internal.example/org/app.git";
const CA = "-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n";
const FLUX_CA = "-----BEGIN CERTIFICATE-----\nZmx1eA==\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n";

/** A repository Secret for URL, its fields under `data` (base64, as the API serves them) or `stringData`. */
function secret(fields: Record<string, string>, as: "data" | "stringData", type = "repository"): KubeObject {
  const encoded = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
  return {
    apiVersion: "v1", kind: "Secret",
    metadata: { name: "repo", namespace: "tack-system", labels: { "tack.dev/secret-type": type } },
    [as]: as === "data" ? encoded : fields,
  };
}

for (const as of ["data", "stringData"] as const) {
  test(`reads the TLS fields from ${as}`, () => {
    const fields = { url: URL, username: "bot", password: "pass", caData: CA, tlsClientCertData: CERT, tlsClientCertKey: KEY, insecure: "true" };
    assert.deepEqual(pickCredentials([secret(fields, as)], URL), {
      username: "bot", password: "pass", tls: { caData: CA, certData: CERT, keyData: KEY, insecure: true },
    });
  });

  test(`reads Flux's ca.crt from ${as}, with caData winning when both are set`, () => {
    assert.deepEqual(pickCredentials([secret({ url: URL, "ca.crt": FLUX_CA }, as)], URL), { tls: { caData: FLUX_CA } });
    assert.deepEqual(pickCredentials([secret({ url: URL, "ca.crt": FLUX_CA, caData: CA }, as)], URL), { tls: { caData: CA } });
  });
}

test("a repo-creds template carries its TLS settings to every repository under its prefix", () => {
  const template = secret({ url: "https://git.internal.example/org", caData: CA }, "stringData", "repo-creds");
  assert.deepEqual(pickCredentials([template], URL), { tls: { caData: CA } });
});

test("insecure is read as Go's ParseBool reads true; anything else leaves verification on", () => {
  for (const value of ["true", "True", "TRUE", "1", "t", " true "]) {
    assert.deepEqual(pickCredentials([secret({ url: URL, insecure: value }, "data")], URL), { tls: { insecure: true } }, value);
  }
  for (const value of ["false", "0", "", "yes", "no"]) {
    assert.deepEqual(pickCredentials([secret({ url: URL, insecure: value }, "data")], URL), {}, value);
  }
});

test("credentials without TLS fields carry no tls key", () => {
  assert.deepEqual(pickCredentials([secret({ url: URL, username: "bot", password: "pass" }, "data")], URL), { username: "bot", password: "pass" });
});
