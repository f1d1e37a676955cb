import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as git from "isomorphic-git";
import { ComparisonError, ErrorReason, InvalidSpecError } from "../../../src/errors.ts";
import { FetchTooLargeError, classifyGitError, revisionNotFound, type ErrorContext } from "../../../src/git/errors.ts";

const ctx: ErrorContext = {
  repo: "https://git.example.com/org/repo.git",
  revision: "main",
  action: "fetching",
  secrets: ["canary-s3cret"],
  hadCredentials: true,
  timeoutMs: 5000,
};

function networkError(code: string): Error {
  // Node's fetch wraps socket errors as TypeError("fetch failed") with the errno error as cause.
  return new TypeError("fetch failed", { cause: Object.assign(new Error(`connect ${code}`), { code }) });
}

describe("classifyGitError", () => {
  const cases: Array<[string, unknown, ErrorReason, RegExp]> = [
    ["HTTP 401", new git.Errors.HttpError(401, "Unauthorized", ""), ErrorReason.RepositoryAuthFailed, /failed \(HTTP 401\).*credentials were rejected/],
    ["HTTP 403", new git.Errors.HttpError(403, "Forbidden", ""), ErrorReason.RepositoryAuthFailed, /HTTP 403/],
    ["HTTP 404", new git.Errors.HttpError(404, "Not Found", ""), ErrorReason.GitError, /not found \(HTTP 404\)/],
    ["HTTP 500", new git.Errors.HttpError(500, "Oops", "canary-s3cret"), ErrorReason.GitError, /answered HTTP 500/],
    ["refused", networkError("ECONNREFUSED"), ErrorReason.RepositoryUnreachable, /unreachable: connection refused/],
    ["dns", networkError("ENOTFOUND"), ErrorReason.RepositoryUnreachable, /host not found/],
    ["reset", networkError("ECONNRESET"), ErrorReason.RepositoryUnreachable, /connection reset/],
    ["fetch's bad port", new TypeError("fetch failed", { cause: new Error("bad port") }), ErrorReason.RepositoryUnreachable, /blocked ports/],
    ["tls", networkError("DEPTH_ZERO_SELF_SIGNED_CERT"), ErrorReason.RepositoryUnreachable, /self-signed/],
    ["timeout", new DOMException("The operation was aborted due to timeout", "TimeoutError"), ErrorReason.RepositoryUnreachable, /unreachable: fetching it timed out after 5000 ms/],
    ["too large", new FetchTooLargeError(1024), ErrorReason.GitError, /more than 1024 bytes/],
    ["not smart http", new git.Errors.SmartHttpError("<html>", "<html>"), ErrorReason.GitError, /smart-HTTP/],
    ["anything else", new Error("boom"), ErrorReason.GitError, /fetching .* failed: boom/],
  ];
  for (const [name, err, reason, message] of cases) {
    it(`${name} → ${reason}`, () => {
      const out = classifyGitError(err, ctx);
      assert.ok(out instanceof ComparisonError);
      assert.equal(out.reason, reason);
      assert.match(out.message, message);
      assert.ok(out.message.includes(ctx.repo), out.message);
      assert.ok(out.message.includes("'main'"), out.message);
      assert.equal(out.terminal, false);
    });
  }

  it("redacts secrets and URL credentials from text it passes through", () => {
    const out = classifyGitError(new Error("failed at https://u:canary-s3cret@h/x with canary-s3cret"), ctx);
    assert.ok(!out.message.includes("canary-s3cret"), out.message);
  });

  it("says when credentials are missing rather than wrong", () => {
    const out = classifyGitError(new git.Errors.HttpError(401, "Unauthorized", ""), { ...ctx, hadCredentials: false });
    assert.match(out.message, /none are configured/);
  });

  it("passes Tack errors through unchanged", () => {
    const err = new InvalidSpecError("bad");
    assert.equal(classifyGitError(err, ctx), err);
  });
});

describe("revisionNotFound", () => {
  it("names the revision and the repository", () => {
    const err = revisionNotFound("http://h/x.git", "nope");
    assert.equal(err.reason, ErrorReason.RevisionNotFound);
    assert.equal(err.message, "revision 'nope' not found in http://h/x.git: it is neither a branch, a tag nor a commit");
  });
});
