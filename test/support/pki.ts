// Throwaway certificates for TLS tests, made with the openssl CLI (OpenSSL 3: `req -x509 -CA` issues a signed
// certificate in one call). EC P-256 keys, because they take microseconds to generate where RSA takes tens of
// milliseconds. Server certificates name 127.0.0.1 and localhost, the two ways a test spells the host.

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

const EXTENSIONS = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[authority]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[server]
subjectAltName = IP:127.0.0.1, DNS:localhost
extendedKeyUsage = serverAuth
[client]
extendedKeyUsage = clientAuth
`;

export interface KeyPair {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM private key (PKCS#8, unencrypted). */
  readonly key: string;
}

export interface Pki {
  /** A certificate of the kind, signed by `issuer` (an authority made here), or self-signed without one. */
  issue(name: string, kind: "authority" | "server" | "client", issuer?: KeyPair): Promise<KeyPair>;
  /** Removes the temp dir holding the keys. */
  remove(): Promise<void>;
}

export async function createPki(): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), "tack-pki-"));
  const config = join(dir, "openssl.cnf");
  await writeFile(config, EXTENSIONS);
  const issued = new Map<KeyPair, string>();
  return {
    async issue(name, kind, issuer) {
      const path = join(dir, name);
      const issuerPath = issuer && issued.get(issuer);
      if (issuer && !issuerPath) throw new Error(`the issuer of ${name} was not made by this Pki`);
      const signer = issuerPath ? ["-CA", `${issuerPath}.crt`, "-CAkey", `${issuerPath}.key`] : [];
      await openssl(["req", "-x509", ...signer, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", `${path}.key`, "-out", `${path}.crt`, "-days", "2", "-subj", `/CN=tack-test-${name}`,
        "-config", config, "-extensions", kind]);
      const pair = { cert: await readFile(`${path}.crt`, "utf8"), key: await readFile(`${path}.key`, "utf8") };
      issued.set(pair, path);
      return pair;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs the openssl CLI; its stderr becomes the error text (also used by control-plane.ts). */
export async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync("openssl", args, { timeout: 30_000, maxBuffer: 1 << 20 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") throw new Error("openssl not found on PATH: install OpenSSL 3 (apt-get install openssl)");
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}
