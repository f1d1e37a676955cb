// One entry per Git server: how to recognise its requests from the headers alone (before any body is read),
// whether it is configured, how to authenticate a body, which events are pushes, and how to read a push.
// Parsers take `unknown` (JSON.parse's result) and return a Push or a string saying what is wrong; they
// never throw.
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import { normalizeRepoURL } from "../../git/url.ts";
import { safeEqual, verifyHmacSha256 } from "./verify.ts";

export interface WebhookSecrets {
  /** GitHub (and GitHub Enterprise): the webhook secret; X-Hub-Signature-256. */
  github?: string;
  /** GitLab: the secret token; X-Gitlab-Token. */
  gitlab?: string;
  /** Gitea: X-Gitea-Signature. */
  gitea?: string;
  /** Gogs: X-Gogs-Signature. */
  gogs?: string;
  /** Bitbucket Cloud: the webhook's UUID (X-Hook-UUID), as Argo CD checks it. */
  bitbucket?: string;
  /** Bitbucket Server / Data Center: the webhook secret; X-Hub-Signature. */
  bitbucketServer?: string;
  /** Tack's generic flavour: X-Tack-Signature: sha256=HMAC-SHA256(secret, body). */
  generic?: string;
}

export interface Push {
  /** Every repository URL the payload carries (web, clone, ssh), normalised with normalizeRepoURL. */
  repoURLs: string[];
  /**
   * Branch and tag names (without refs/heads/ or refs/tags/), the new commit SHA, and "HEAD" when the push
   * touched the repository's default branch (or the payload does not say which branch is the default).
   */
  revisions: string[];
  /** Paths the pushed commits touched, when the payload lists them all; undefined when unknown. */
  changedFiles?: string[];
}

export type FlavourName = keyof WebhookSecrets;

export interface Flavour {
  name: FlavourName;
  /** The event named by the headers ("push", "Push Hook", "repo:refs_changed" …). */
  event(headers: IncomingHttpHeaders): string;
  /** Whether the event is one that carries a push; anything else is answered 200 and ignored. */
  isPush(event: string): boolean;
  /** Authenticates the request: headers (and body for HMAC flavours) against the configured secret. */
  authenticate(headers: IncomingHttpHeaders, body: Buffer, secret: string): boolean;
  parse(payload: unknown): Push | string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const ZERO_SHA = /^0+$/;

/** "{4C1B…}" and "4c1b…" are one UUID (Bitbucket shows it in braces). */
function bareUUID(value: string): string {
  return value.trim().toLowerCase().replace(/^\{(.*)\}$/, "$1");
}

/** "refs/heads/main" → "main", "refs/tags/v1" → "v1"; anything else unchanged. */
export function refName(ref: string): string {
  return ref.replace(/^refs\/(heads|tags)\//, "");
}

const str = z.string().max(4096);
const optStr = str.optional().nullable();
const fileList = z.array(str).max(10_000);

function urls(...candidates: Array<string | null | undefined>): string[] {
  const out = new Set<string>();
  for (const c of candidates) if (typeof c === "string" && c.trim() !== "") out.add(normalizeRepoURL(c));
  return [...out];
}

function revisions(refs: string[], shas: Array<string | null | undefined>, touchedHead: boolean): string[] {
  const out = new Set<string>();
  for (const r of refs) if (r) out.add(refName(r));
  for (const s of shas) if (s && !ZERO_SHA.test(s)) out.add(s);
  if (touchedHead) out.add("HEAD");
  return [...out];
}

const Commit = z.object({ added: fileList.optional(), modified: fileList.optional(), removed: fileList.optional() });

/** The union of files the commits list, or undefined when the list may be incomplete. */
function changedFiles(commits: Array<z.infer<typeof Commit>> | undefined, complete: boolean): string[] | undefined {
  if (!commits || commits.length === 0 || !complete) return undefined;
  const files = new Set<string>();
  for (const c of commits) {
    if (!c.added || !c.modified || !c.removed) return undefined;
    for (const f of [...c.added, ...c.modified, ...c.removed]) files.add(f);
  }
  return [...files];
}

function fail(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join(".") || "payload"}: ${issue.message}` : "unexpected payload";
}

function done(repoURLs: string[], revs: string[], files: string[] | undefined): Push | string {
  if (repoURLs.length === 0) return "the payload names no repository URL";
  return files === undefined ? { repoURLs, revisions: revs } : { repoURLs, revisions: revs, changedFiles: files };
}

// GitHub, Gitea and Gogs send the same push shape.
const GitHubLikePush = z.object({
  ref: str,
  after: optStr,
  repository: z.object({
    html_url: optStr, clone_url: optStr, ssh_url: optStr, git_url: optStr, url: optStr, svn_url: optStr,
    default_branch: optStr,
  }),
  commits: z.array(Commit).max(10_000).optional().nullable(),
});

function githubLike(maxListedCommits: number): (payload: unknown) => Push | string {
  return (payload) => {
    const p = GitHubLikePush.safeParse(payload);
    if (!p.success) return fail(p.error);
    const { ref, after, repository: r } = p.data;
    const commits = p.data.commits ?? undefined;
    const touchedHead = !r.default_branch || ref === `refs/heads/${r.default_branch}`;
    return done(
      urls(r.html_url, r.clone_url, r.ssh_url, r.git_url, r.url, r.svn_url),
      revisions([ref], [after], touchedHead),
      changedFiles(commits, (commits?.length ?? 0) < maxListedCommits),
    );
  };
}

const GitLabPush = z.object({
  ref: str,
  after: optStr,
  checkout_sha: optStr,
  total_commits_count: z.number().optional(),
  project: z.object({
    web_url: optStr, git_http_url: optStr, git_ssh_url: optStr, http_url: optStr, ssh_url: optStr, url: optStr,
    default_branch: optStr,
  }).optional(),
  repository: z.object({ url: optStr, homepage: optStr, git_http_url: optStr, git_ssh_url: optStr }).optional(),
  commits: z.array(Commit).max(10_000).optional().nullable(),
});

const BitbucketCloudPush = z.object({
  push: z.object({
    changes: z.array(z.object({
      new: z.object({ type: optStr, name: str, target: z.object({ hash: optStr }).optional().nullable() }).optional().nullable(),
    })).max(10_000),
  }),
  repository: z.object({
    full_name: optStr,
    links: z.object({ html: z.object({ href: str }).optional() }).optional(),
  }),
});

const BitbucketServerPush = z.object({
  changes: z.array(z.object({
    ref: z.object({ id: str, displayId: optStr, type: optStr }).optional(),
    refId: optStr,
    toHash: optStr,
  })).max(10_000),
  repository: z.object({
    slug: optStr,
    project: z.object({ key: optStr }).optional(),
    links: z.object({
      clone: z.array(z.object({ href: str, name: optStr })).max(100).optional(),
      self: z.array(z.object({ href: str })).max(100).optional(),
    }).optional(),
  }),
});

const GenericPush = z.object({
  repository: z.object({ url: str }),
  ref: str,
  after: optStr,
  changedFiles: fileList.optional(),
});

/** In detection order: Gitea also sends Gogs' and GitHub's event headers, so it is recognised first. */
export const flavours: readonly Flavour[] = [
  {
    name: "gitea",
    event: (h) => header(h, "x-gitea-event") ?? "",
    isPush: (e) => e === "push",
    authenticate: (h, body, secret) => verifyHmacSha256(body, secret, header(h, "x-gitea-signature")),
    parse: githubLike(Infinity),
  },
  {
    name: "gogs",
    event: (h) => header(h, "x-gogs-event") ?? "",
    isPush: (e) => e === "push",
    authenticate: (h, body, secret) => verifyHmacSha256(body, secret, header(h, "x-gogs-signature")),
    parse: githubLike(Infinity),
  },
  {
    name: "github",
    event: (h) => header(h, "x-github-event") ?? "",
    isPush: (e) => e === "push",
    authenticate: (h, body, secret) => verifyHmacSha256(body, secret, header(h, "x-hub-signature-256"), "sha256="),
    // GitHub lists at most 20 commits in a push payload: with 20 the list may be cut.
    parse: githubLike(20),
  },
  {
    name: "gitlab",
    event: (h) => header(h, "x-gitlab-event") ?? "",
    isPush: (e) => e === "Push Hook" || e === "Tag Push Hook",
    authenticate: (h, _body, secret) => {
      const token = header(h, "x-gitlab-token");
      return !!secret && typeof token === "string" && safeEqual(token, secret);
    },
    parse: (payload) => {
      const p = GitLabPush.safeParse(payload);
      if (!p.success) return fail(p.error);
      const d = p.data;
      const commits = d.commits ?? undefined;
      const complete = d.total_commits_count === undefined || d.total_commits_count <= (commits?.length ?? 0);
      const defaultBranch = d.project?.default_branch;
      return done(
        urls(d.project?.web_url, d.project?.git_http_url, d.project?.git_ssh_url, d.project?.http_url, d.project?.ssh_url,
          d.project?.url, d.repository?.url, d.repository?.homepage, d.repository?.git_http_url, d.repository?.git_ssh_url),
        revisions([d.ref], [d.after, d.checkout_sha], !defaultBranch || d.ref === `refs/heads/${defaultBranch}`),
        changedFiles(commits, complete),
      );
    },
  },
  {
    name: "bitbucket",
    // Bitbucket Cloud sends X-Hook-UUID; Bitbucket Server does not (Argo CD tells them apart the same way).
    event: (h) => (header(h, "x-hook-uuid") !== undefined ? header(h, "x-event-key") ?? "" : ""),
    isPush: (e) => e === "repo:push",
    authenticate: (h, _body, uuid) => {
      const got = header(h, "x-hook-uuid");
      return !!uuid && typeof got === "string" && safeEqual(bareUUID(got), bareUUID(uuid));
    },
    parse: (payload) => {
      const p = BitbucketCloudPush.safeParse(payload);
      if (!p.success) return fail(p.error);
      const { push, repository: r } = p.data;
      const html = r.links?.html?.href;
      let ssh: string | undefined;
      if (html && r.full_name && URL.canParse(html)) ssh = `git@${new URL(html).host}:${r.full_name}.git`;
      const changes = push.changes.flatMap((c) => (c.new ? [c.new] : []));
      // The payload does not say which branch is the default: treat every push as possibly touching HEAD.
      return done(urls(html, ssh), revisions(changes.map((c) => c.name), changes.map((c) => c.target?.hash), true), undefined);
    },
  },
  {
    name: "bitbucketServer",
    event: (h) => (header(h, "x-hook-uuid") === undefined ? header(h, "x-event-key") ?? "" : ""),
    isPush: (e) => e === "repo:refs_changed",
    authenticate: (h, body, secret) => verifyHmacSha256(body, secret, header(h, "x-hub-signature"), "sha256="),
    parse: (payload) => {
      const p = BitbucketServerPush.safeParse(payload);
      if (!p.success) return fail(p.error);
      const { changes, repository: r } = p.data;
      return done(
        urls(...(r.links?.clone ?? []).map((c) => c.href), ...(r.links?.self ?? []).map((s) => s.href.replace(/\/browse\/?$/, ""))),
        revisions(changes.map((c) => c.ref?.id ?? c.refId ?? "").filter(Boolean), changes.map((c) => c.toHash), true),
        undefined,
      );
    },
  },
  {
    name: "generic",
    event: (h) => (header(h, "x-tack-signature") !== undefined ? header(h, "x-tack-event") ?? "push" : ""),
    isPush: (e) => e === "push",
    authenticate: (h, body, secret) => verifyHmacSha256(body, secret, header(h, "x-tack-signature"), "sha256="),
    parse: (payload) => {
      const p = GenericPush.safeParse(payload);
      if (!p.success) return fail(p.error);
      const d = p.data;
      // The generic flavour does not know the default branch either.
      return done(urls(d.repository.url), revisions([d.ref], [d.after], true), d.changedFiles);
    },
  },
];

/** The flavour whose headers this request carries, with its event; undefined when none does. */
export function detectFlavour(headers: IncomingHttpHeaders): { flavour: Flavour; event: string } | undefined {
  for (const flavour of flavours) {
    const event = flavour.event(headers);
    if (event) return { flavour, event };
  }
  return undefined;
}
