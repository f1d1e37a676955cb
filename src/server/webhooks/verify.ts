// Signature and token checks, all constant-time in the secret: a comparison never returns early on the
// first differing byte, and a length difference is not observable either (both sides are hashed first).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

function digest(value: Buffer | string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Constant-time equality of two strings of any length. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Checks `signature` (hex, optionally with a `prefix` such as "sha256=") against HMAC-SHA256(secret, body).
 * Empty secrets never verify.
 */
export function verifyHmacSha256(body: Buffer, secret: string, signature: string | undefined, prefix = ""): boolean {
  if (!secret || typeof signature !== "string") return false;
  const sig = signature.trim();
  if (prefix && !sig.toLowerCase().startsWith(prefix)) return false;
  const hex = sig.slice(prefix.length).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  return timingSafeEqual(digest(expected), digest(Buffer.from(hex, "hex")));
}

/** HMAC-SHA256 of the body in hex: what senders put in signature headers (tests and the CLI use it). */
export function hmacSha256Hex(body: Buffer | string, secret: string): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}
