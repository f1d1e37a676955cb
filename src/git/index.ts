// git: everything Tack knows about repositories. It owns revision resolution (asking the server for its
// refs), fetching into one bare object store per repository under the cache dir, writing read-only
// checkouts of a commit, tree hashes for render-cache keys and commit metadata for status history.
//
// One entry point, RepoCache (repo-cache.ts), over parts that each own one concern: store.ts (object stores
// and what they hold), refs.ts (ref listings and revision lookup), fetch.ts, checkouts.ts (writing, sharing
// and evicting checkouts), commit-reads.ts (tree hashes, commit metadata), credentials.ts (which credentials,
// how they reach the server, what errors may say), operations.ts (deadline, HTTP client, timing), over
// http-client.ts (fetch with TLS settings and a byte cap), materialize.ts, trees.ts and store-fs.ts.
// Public types live in types.ts.
//
// Must not import: cluster/ (it never talks to the Kubernetes API: credentials come in as plain values),
// controller/, render/, or anything that reads process.env. It may import errors.ts and redact.ts.
//
// Decisions worth knowing before using it:
// - Transport: http(s) only, through isomorphic-git. An ssh:// or git@host:path URL is a terminal
//   ComparisonError (reason InvalidSpec): "SSH URLs are not supported: use an HTTPS URL".
// - Credentials reach the server only through isomorphic-git's onAuth (basic auth; a bearerToken becomes an
//   `Authorization: Bearer` header). user:pass@ in a repoURL is stripped from the URL and used as
//   credentials when none are given. No message, log line or event carries a credential: errors name the
//   repository by its URL with userinfo masked, and text from lower layers is redacted. TLS settings (extra
//   CA, client certificate, insecure) come with the credentials and give the repository its own undici Agent
//   (http-client.ts); PEMs are checked before any request.
// - Errors are ComparisonErrors with a specific reason: RevisionNotFound, RepositoryUnreachable (refused,
//   DNS, TLS, timeout), RepositoryAuthFailed (HTTP 401/403, a client certificate demanded or refused),
//   GitError (everything else, a malformed PEM in the Secret included).
// - Symlinks: a checkout contains a symlink only if it resolves inside the checkout. Absolute targets,
//   targets that leave the checkout (checked lexically and then with realpath), dangling links and
//   submodules are written as stand-ins that nothing can read (refused-entries.ts), never left out: a
//   missing entry would read as deleted from Git. A renderer that meets one refuses the render, naming the
//   path and the reason; `RepoCache.escapingSymlinks(dir)` lists them too. Renderers must still confine spec
//   paths themselves.
// - Checkouts are shared (one directory per repository and commit), written atomically (temp dir + rename)
//   and must be treated as read-only. They are LRU-bounded, but one handed out within checkoutGraceMs is not
//   evicted. Checkouts of a previous process are removed on first use; object stores are kept.
// - treeHash(path) hashes only what is under `path`. It is a sound render-cache key only for renders that
//   read nothing outside that path (kustomize `../base`, Helm file references or in-repo symlinks can);
//   treeHash(repo, sha, "") covers everything.

export { RepoCache } from "./repo-cache.ts";
export type { GitRequestEvent, RepoCacheOptions, RepoCredentials } from "./types.ts";
export type { SkippedSymlink } from "./materialize.ts";
export { refusedEntryReason, standInTarget, type RefusedEntryReason } from "./refused-entries.ts";
export { credentialSecrets } from "./credentials.ts";
export { normalizeRepoURL } from "./url.ts";
