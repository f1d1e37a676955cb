import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { getCACertificates } from "node:tls";
import { after, before, describe, it } from "node:test";
import { ComparisonError, ErrorReason } from "../../../src/errors.ts";
import { TlsConfigError, classifyGitError, type ErrorContext } from "../../../src/git/errors.ts";
import { tlsConnectOptions, tlsFingerprint } from "../../../src/git/http-client.ts";
import { createPki, type KeyPair, type Pki } from "../../support/pki.ts";

let pki: Pki;
let ca: KeyPair;
let client: KeyPair;
let other: KeyPair;

before(async () => {
  pki = await createPki();
  ca = await pki.issue("ca", "authority");
  client = await pki.issue("client", "client", ca);
  other = await pki.issue("other", "client", ca);
});
after(() => pki.remove());

/** The TlsConfigError that the settings raise; its message must never carry any of the PEM text. */
function configError(tls: Parameters<typeof tlsConnectOptions>[0]): TlsConfigError {
  try {
    tlsConnectOptions(tls);
  } catch (err) {
    assert.ok(err instanceof TlsConfigError, String(err));
    assert.ok(!err.message.includes("-----"), err.message);
    for (const pem of [tls.caData, tls.certData, tls.keyData]) {
      for (const line of pem?.split("\n") ?? []) if (line.length >= 8 && !line.startsWith("-----")) assert.ok(!err.message.includes(line));
    }
    return err;
  }
  assert.fail("expected a TlsConfigError");
}

describe("tlsConnectOptions", () => {
  it("adds caData to Node's default CAs instead of replacing them", () => {
    const options = tlsConnectOptions({ caData: ca.cert });
    const defaults = getCACertificates("default");
    assert.equal(options.ca?.length, defaults.length + 1);
    assert.deepEqual(options.ca?.slice(0, -1), defaults);
    assert.equal(options.ca?.at(-1), ca.cert);
    assert.equal(options.rejectUnauthorized, true);
  });

  it("passes a client certificate and key, and turns verification off only for insecure", () => {
    assert.deepEqual(tlsConnectOptions({ certData: client.cert, keyData: client.key }), {
      cert: client.cert, key: client.key, rejectUnauthorized: true,
    });
    assert.deepEqual(tlsConnectOptions({ insecure: true }), { rejectUnauthorized: false });
  });

  const garbageKey = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWNhbmFyeS1rZXktbWF0ZXJpYWw=\n-----END PRIVATE KEY-----\n";
  const garbageCert = "-----BEGIN CERTIFICATE-----\nbm90LWEtY2VydGlmaWNhdGUtYXQtYWxs\n-----END CERTIFICATE-----\n";
  const traditionalEncrypted = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nZW5jcnlwdGVk\n-----END EC PRIVATE KEY-----\n";
  const cases: Array<[string, () => Parameters<typeof tlsConnectOptions>[0], string, RegExp]> = [
    ["CA text without a PEM block", () => ({ caData: "not a pem" }), "caData (or ca.crt)", /has no BEGIN CERTIFICATE block/],
    ["a CA block that is no certificate", () => ({ caData: garbageCert }), "caData (or ca.crt)", /is not a valid PEM certificate$/],
    ["a bad second certificate in a CA bundle", () => ({ caData: ca.cert + garbageCert }), "caData (or ca.crt)", /certificate 2 of 2/],
    ["a client certificate that is no certificate", () => ({ certData: garbageCert, keyData: client.key }), "tlsClientCertData", /not a valid PEM certificate/],
    ["a key that is no key", () => ({ certData: client.cert, keyData: garbageKey }), "tlsClientCertKey", /not a valid PEM private key/],
    ["a certificate given as the key", () => ({ certData: client.cert, keyData: client.cert }), "tlsClientCertKey", /not a valid PEM private key/],
    ["another certificate's key", () => ({ certData: client.cert, keyData: other.key }), "tlsClientCertKey", /does not match the certificate in tlsClientCertData/],
    ["a certificate without its key", () => ({ certData: client.cert }), "tlsClientCertKey", /is missing/],
    ["a key without its certificate", () => ({ keyData: client.key }), "tlsClientCertData", /is missing/],
    ["an encrypted key", () => ({ certData: client.cert, keyData: encryptedKey() }), "tlsClientCertKey", /encrypted private key/],
    ["an encrypted key in OpenSSL's traditional format", () => ({ certData: client.cert, keyData: traditionalEncrypted }), "tlsClientCertKey",
      /encrypted private key/],
  ];
  for (const [name, tls, field, message] of cases) {
    it(`names the field for ${name}`, () => {
      const err = configError(tls());
      assert.equal(err.field, field);
      assert.ok(err.message.startsWith(`${field} `), err.message);
      assert.match(err.message, message);
    });
  }

  it("fingerprints the settings without holding them", () => {
    const a = tlsFingerprint({ certData: client.cert, keyData: client.key });
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.notEqual(a, tlsFingerprint({ certData: client.cert, keyData: client.key, insecure: true }));
    assert.equal(a, tlsFingerprint({ certData: client.cert, keyData: client.key }));
  });
});

function encryptedKey(): string {
  return generateKeyPairSync("ec", {
    namedCurve: "prime256v1",
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pass" },
  }).privateKey;
}

describe("classifyGitError for TLS", () => {
  const ctx: ErrorContext = { repo: "https://git.internal.example/org/app.git", revision: "main", action: "listing refs of", secrets: [], hadCredentials: false };
  const socketError = (code: string): Error =>
    new TypeError("fetch failed", { cause: Object.assign(new Error(`tls ${code}`), { code }) });
  const cases: Array<[string, unknown, Partial<ErrorContext>, ErrorReason, RegExp]> = [
    ["unknown CA", socketError("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), {}, ErrorReason.RepositoryUnreachable,
      /unreachable: TLS certificate signed by an unknown authority \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): add the CA as caData in the repository Secret/],
    ["missing issuer", socketError("UNABLE_TO_GET_ISSUER_CERT_LOCALLY"), {}, ErrorReason.RepositoryUnreachable, /unknown authority.*add the CA as caData/],
    ["root sent by the server", socketError("SELF_SIGNED_CERT_IN_CHAIN"), {}, ErrorReason.RepositoryUnreachable, /unknown authority.*add the CA as caData/],
    ["self-signed", socketError("DEPTH_ZERO_SELF_SIGNED_CERT"), {}, ErrorReason.RepositoryUnreachable, /self-signed.*add the server's certificate as caData/],
    ["wrong caData", socketError("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), { hadCustomCa: true }, ErrorReason.RepositoryUnreachable,
      /caData of the repository Secret does not include the CA/],
    ["client certificate required", socketError("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"), {}, ErrorReason.RepositoryAuthFailed,
      /requires a TLS client certificate: set tlsClientCertData and tlsClientCertKey/],
    ["client certificate refused", socketError("ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"), { hadClientCert: true }, ErrorReason.RepositoryAuthFailed,
      /rejected the TLS client certificate/],
    ["hang-up with a client certificate", socketError("UND_ERR_SOCKET"), { hadClientCert: true }, ErrorReason.RepositoryUnreachable,
      /connection closed by the server \(it may have refused the TLS client certificate\)/],
    ["bad TLS settings", new TlsConfigError("tlsClientCertKey", "is not a valid PEM private key"), {}, ErrorReason.GitError,
      /^repository https:\/\/git\.internal\.example\/org\/app\.git: tlsClientCertKey is not a valid PEM private key/],
  ];
  for (const [name, err, extra, reason, message] of cases) {
    it(`${name} → ${reason}`, () => {
      const out = classifyGitError(err, { ...ctx, ...extra });
      assert.ok(out instanceof ComparisonError);
      assert.equal(out.reason, reason, out.message);
      assert.match(out.message, message);
    });
  }

  it("a hang-up without a client certificate does not guess at one", () => {
    assert.doesNotMatch(classifyGitError(socketError("UND_ERR_SOCKET"), ctx).message, /client certificate/);
  });
});
