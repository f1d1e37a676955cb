// isomorphic-git's HTTP client, on Node's fetch, so that every request of one git operation shares one
// AbortSignal (the operation's deadline also cuts a stalled body stream, which the bundled simple-get client
// cannot do) and response bodies are size-capped as they stream in.

import type { GitHttpRequest, GitHttpResponse, HttpClient } from "isomorphic-git";
import { FetchTooLargeError } from "./errors.ts";

export interface HttpClientOptions {
  readonly signal: AbortSignal;
  /** Total response bytes allowed for the whole operation. */
  readonly maxBytes: number;
}

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  let received = 0;
  const count = (n: number): void => {
    received += n;
    if (received > opts.maxBytes) throw new FetchTooLargeError(opts.maxBytes);
  };

  async function* capped(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      count(chunk.byteLength);
      yield chunk;
    }
  }

  return {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      opts.signal.throwIfAborted();
      const method = req.method ?? "GET";
      let payload: Buffer | undefined;
      if (req.body) {
        const parts: Uint8Array[] = [];
        for await (const part of req.body) parts.push(part);
        payload = Buffer.concat(parts);
      }
      const res = await fetch(req.url, {
        method,
        headers: req.headers ?? {},
        ...(payload ? { body: payload } : {}),
        signal: opts.signal,
        // Node's fetch drops Authorization on cross-origin redirects, so following them cannot leak credentials.
        redirect: "follow",
      });
      const headers: Record<string, string> = {};
      res.headers.forEach((value, key) => {
        headers[key] = value;
      });
      return {
        url: res.url,
        method,
        statusCode: res.status,
        statusMessage: res.statusText,
        headers,
        body: res.body ? capped(res.body) : emptyBody(),
      };
    },
  };
}

// eslint-disable-next-line require-yield
async function* emptyBody(): AsyncGenerator<Uint8Array> {}
