import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ComparisonError, ErrorReason } from "../../../src/errors.ts";
import { normalizeRepoURL } from "../../../src/git/index.ts";
import { parseRepoURL, repoDirName } from "../../../src/git/url.ts";

describe("normalizeRepoURL", () => {
  const cases: Array<[string, string]> = [
    ["https://github.com/org/repo.git", "https://github.com/org/repo"],
    ["https://GitHub.COM/org/repo", "https://github.com/org/repo"],
    ["https://github.com/org/repo/", "https://github.com/org/repo"],
    ["https://github.com/org/repo.git/", "https://github.com/org/repo"],
    ["HTTPS://github.com/Org/Repo.GIT", "https://github.com/Org/Repo"],
    ["https://user:s3cret@github.com/org/repo.git", "https://github.com/org/repo"],
    ["https://token@github.com/org/repo", "https://github.com/org/repo"],
    ["https://github.com:443/org/repo", "https://github.com/org/repo"],
    ["http://127.0.0.1:8080/x.git", "http://127.0.0.1:8080/x"],
    ["https://github.com/org/repo.git?foo=1#frag", "https://github.com/org/repo"],
    ["  https://github.com/org/repo.git  ", "https://github.com/org/repo"],
    ["git@GitHub.com:org/repo.git", "ssh://github.com/org/repo"],
    ["ssh://git@github.com/org/repo.git", "ssh://github.com/org/repo"],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => assert.equal(normalizeRepoURL(input), expected));
  }

  it("is idempotent", () => {
    for (const [input] of cases) {
      const once = normalizeRepoURL(input);
      assert.equal(normalizeRepoURL(once), once);
    }
  });
});

describe("parseRepoURL", () => {
  it("moves credentials out of the URL", () => {
    const parsed = parseRepoURL("https://me:p%40ss@git.example.com/org/repo.git");
    assert.equal(parsed.fetchURL, "https://git.example.com/org/repo.git");
    assert.deepEqual(parsed.urlCredentials, { username: "me", password: "p@ss" });
    assert.ok(!parsed.display.includes("p%40ss") && !parsed.display.includes("p@ss"), parsed.display);
    assert.equal(parsed.normalized, "https://git.example.com/org/repo");
  });

  it("has no credentials when the URL carries none", () => {
    assert.equal(parseRepoURL("https://git.example.com/x").urlCredentials, undefined);
  });

  for (const url of ["git@github.com:org/repo.git", "ssh://git@github.com/org/repo", "git+ssh://github.com/x"]) {
    it(`refuses ${url} with a terminal SSH error`, () => {
      assert.throws(
        () => parseRepoURL(url),
        (err: unknown) =>
          err instanceof ComparisonError &&
          err.reason === ErrorReason.InvalidSpec &&
          err.terminal &&
          err.message.includes("SSH URLs are not supported: use an HTTPS URL"),
      );
    });
  }

  for (const url of ["git://github.com/org/repo", "file:///srv/repo", "not a url", ""]) {
    it(`refuses '${url}' as not an http(s) URL`, () => {
      assert.throws(
        () => parseRepoURL(url),
        (err: unknown) => err instanceof ComparisonError && err.terminal && /use an HTTPS URL/.test(err.message),
      );
    });
  }
});

describe("repoDirName", () => {
  it("is readable, filesystem-safe and distinct per repository", () => {
    const a = repoDirName("https://github.com/org/repo");
    const b = repoDirName("https://github.com/org/repo2");
    assert.match(a, /^github.com_org_repo-[0-9a-f]{12}$/);
    assert.notEqual(a, b);
    assert.match(repoDirName("https://h/../../etc"), /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
  });
});
