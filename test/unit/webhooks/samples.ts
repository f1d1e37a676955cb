// Push payloads in the shapes each Git server sends, written for these tests (trimmed to the fields a
// receiver reads plus some it must ignore), and helpers to sign and send them.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { createWebhookHandler, hmacSha256Hex, type Push, type WebhookSecrets } from "../../../src/server/webhooks/index.ts";

export const SHA = "9f2c1e7d4b3a5968c0e1f2a3b4c5d6e7f8091a2b";
const BEFORE = "1111111111111111111111111111111111111111";

export const secrets: Required<WebhookSecrets> = {
  github: "gh-secret", gitlab: "gl-token", gitea: "gitea-secret", gogs: "gogs-secret",
  bitbucket: "{4c1b7a52-0d4e-4a0e-9d8f-2e3f6a7b8c9d}", bitbucketServer: "bbs-secret", generic: "generic-secret",
};

export interface Sample {
  flavour: keyof WebhookSecrets;
  body: unknown;
  /** Headers of a correctly authenticated request for this body (computed from the raw bytes). */
  headers(raw: Buffer, secret?: string): Record<string, string>;
  /** Headers with a forged signature/token. */
  forged(raw: Buffer): Record<string, string>;
  expect: Push;
}

const github = {
  ref: "refs/heads/main", before: BEFORE, after: SHA, created: false, deleted: false, forced: false,
  repository: {
    id: 4242, name: "config", full_name: "acme/config", private: true, default_branch: "main",
    html_url: "https://github.com/acme/config", url: "https://github.com/acme/config",
    git_url: "git://github.com/acme/config.git", ssh_url: "git@github.com:acme/config.git",
    clone_url: "https://github.com/acme/config.git", svn_url: "https://github.com/acme/config",
  },
  pusher: { name: "dev", email: "dev@example.com" },
  commits: [
    { id: SHA, message: "scale web", added: ["apps/web/hpa.yaml"], modified: ["apps/web/deploy.yaml"], removed: [] },
    { id: BEFORE, message: "drop old", added: [], modified: ["apps/web/deploy.yaml"], removed: ["apps/old/cm.yaml"] },
  ],
  head_commit: { id: SHA },
};

const gitlab = {
  object_kind: "push", event_name: "push", before: BEFORE, after: SHA, ref: "refs/heads/release", checkout_sha: SHA,
  user_name: "Dev", project_id: 77,
  project: {
    id: 77, name: "config", web_url: "https://gitlab.example.com/platform/config",
    git_ssh_url: "git@gitlab.example.com:platform/config.git", git_http_url: "https://gitlab.example.com/platform/config.git",
    namespace: "platform", default_branch: "main", path_with_namespace: "platform/config",
  },
  commits: [{ id: SHA, message: "bump", added: [], modified: ["env/prod/values.yaml"], removed: [] }],
  total_commits_count: 1,
  repository: { name: "config", url: "git@gitlab.example.com:platform/config.git", homepage: "https://gitlab.example.com/platform/config" },
};

const gitea = {
  ref: "refs/tags/v1.4.0", before: BEFORE, after: SHA, compare_url: "",
  commits: [],
  repository: {
    id: 3, name: "infra", full_name: "ops/infra", html_url: "http://gitea.local:3000/ops/infra",
    ssh_url: "ssh://git@gitea.local:2222/ops/infra.git", clone_url: "http://gitea.local:3000/ops/infra.git", default_branch: "main",
  },
  pusher: { login: "ops" },
};

const gogs = {
  ref: "refs/heads/master", before: BEFORE, after: SHA,
  commits: [{ id: SHA, message: "x", added: ["a.yaml"], removed: [], modified: [] }],
  repository: {
    id: 9, name: "deploy", full_name: "team/deploy", html_url: "https://gogs.example.org/team/deploy",
    ssh_url: "git@gogs.example.org:team/deploy.git", clone_url: "https://gogs.example.org/team/deploy.git", default_branch: "master",
  },
};

const bitbucket = {
  actor: { display_name: "Dev" },
  repository: {
    type: "repository", full_name: "acme/k8s-config", name: "k8s-config", scm: "git",
    links: { html: { href: "https://bitbucket.org/acme/k8s-config" } },
  },
  push: {
    changes: [
      { old: { type: "branch", name: "main", target: { hash: BEFORE } }, new: { type: "branch", name: "main", target: { hash: SHA } }, created: false, closed: false },
      { old: { type: "branch", name: "gone", target: { hash: BEFORE } }, new: null, created: false, closed: true },
    ],
  },
};

const bitbucketServer = {
  eventKey: "repo:refs_changed", date: "2025-06-04T10:00:00+0000",
  actor: { name: "dev" },
  repository: {
    slug: "config", name: "config", project: { key: "OPS", name: "Ops" },
    links: {
      clone: [
        { href: "ssh://git@bitbucket.example.com:7999/ops/config.git", name: "ssh" },
        { href: "https://bitbucket.example.com/scm/ops/config.git", name: "http" },
      ],
      self: [{ href: "https://bitbucket.example.com/projects/OPS/repos/config/browse" }],
    },
  },
  changes: [{ ref: { id: "refs/heads/develop", displayId: "develop", type: "BRANCH" }, refId: "refs/heads/develop", fromHash: BEFORE, toHash: SHA, type: "UPDATE" }],
};

const generic = { repository: { url: "https://git.internal/acme/config.git" }, ref: "refs/heads/main", after: SHA, changedFiles: ["apps/a.yaml"] };

const sig = (raw: Buffer, secret: string) => hmacSha256Hex(raw, secret);

export const samples: Sample[] = [
  {
    flavour: "github", body: github,
    headers: (raw, s = secrets.github) => ({ "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": `sha256=${sig(raw, s)}` }),
    forged: (raw) => ({ "X-GitHub-Event": "push", "X-Hub-Signature-256": `sha256=${sig(raw, "wrong")}` }),
    expect: {
      repoURLs: ["https://github.com/acme/config", "ssh://github.com/acme/config", "git://github.com/acme/config"],
      revisions: ["main", SHA, "HEAD"],
      changedFiles: ["apps/web/hpa.yaml", "apps/web/deploy.yaml", "apps/old/cm.yaml"],
    },
  },
  {
    flavour: "gitlab", body: gitlab,
    headers: (_raw, s = secrets.gitlab) => ({ "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": s }),
    forged: () => ({ "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "gl-tokem" }),
    expect: {
      repoURLs: ["https://gitlab.example.com/platform/config", "ssh://gitlab.example.com/platform/config"],
      revisions: ["release", SHA],
      changedFiles: ["env/prod/values.yaml"],
    },
  },
  {
    flavour: "gitea", body: gitea,
    headers: (raw, s = secrets.gitea) => ({ "X-Gitea-Event": "push", "X-Gogs-Event": "push", "X-GitHub-Event": "push", "X-Gitea-Signature": sig(raw, s) }),
    forged: (raw) => ({ "X-Gitea-Event": "push", "X-Gitea-Signature": sig(raw, "nope") }),
    expect: { repoURLs: ["http://gitea.local:3000/ops/infra", "ssh://gitea.local:2222/ops/infra"], revisions: ["v1.4.0", SHA] },
  },
  {
    flavour: "gogs", body: gogs,
    headers: (raw, s = secrets.gogs) => ({ "X-Gogs-Event": "push", "X-Gogs-Signature": sig(raw, s) }),
    forged: (raw) => ({ "X-Gogs-Event": "push", "X-Gogs-Signature": sig(raw, "nope") }),
    expect: {
      repoURLs: ["https://gogs.example.org/team/deploy", "ssh://gogs.example.org/team/deploy"],
      revisions: ["master", SHA, "HEAD"], changedFiles: ["a.yaml"],
    },
  },
  {
    flavour: "bitbucket", body: bitbucket,
    headers: (_raw, s = secrets.bitbucket) => ({ "X-Event-Key": "repo:push", "X-Hook-UUID": s, "X-Request-UUID": "r-1" }),
    forged: () => ({ "X-Event-Key": "repo:push", "X-Hook-UUID": "{00000000-0000-0000-0000-000000000000}" }),
    expect: { repoURLs: ["https://bitbucket.org/acme/k8s-config", "ssh://bitbucket.org/acme/k8s-config"], revisions: ["main", SHA, "HEAD"] },
  },
  {
    flavour: "bitbucketServer", body: bitbucketServer,
    headers: (raw, s = secrets.bitbucketServer) => ({ "X-Event-Key": "repo:refs_changed", "X-Request-Id": "r-2", "X-Hub-Signature": `sha256=${sig(raw, s)}` }),
    forged: (raw) => ({ "X-Event-Key": "repo:refs_changed", "X-Hub-Signature": `sha256=${sig(raw, "x")}` }),
    expect: {
      repoURLs: ["ssh://bitbucket.example.com:7999/ops/config", "https://bitbucket.example.com/scm/ops/config", "https://bitbucket.example.com/projects/OPS/repos/config"],
      revisions: ["develop", SHA, "HEAD"],
    },
  },
  {
    flavour: "generic", body: generic,
    headers: (raw, s = secrets.generic) => ({ "X-Tack-Signature": `sha256=${sig(raw, s)}` }),
    forged: (raw) => ({ "X-Tack-Signature": `sha256=${sig(raw, "y")}` }),
    expect: { repoURLs: ["https://git.internal/acme/config"], revisions: ["main", SHA, "HEAD"], changedFiles: ["apps/a.yaml"] },
  },
];

export interface Receiver {
  url: string;
  pushes: Push[];
  secrets: WebhookSecrets;
  close(): Promise<void>;
}

/** A real HTTP server with the handler mounted, recording every onPush. */
export async function startReceiver(opts: { secrets?: WebhookSecrets; maxBodyBytes?: number } = {}): Promise<Receiver> {
  const pushes: Push[] = [];
  const current: WebhookSecrets = { ...(opts.secrets ?? secrets) };
  const handler = createWebhookHandler({
    secrets: () => current, onPush: (p) => pushes.push(p), logger: pino({ level: "silent" }),
    ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
  });
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/webhook`, pushes, secrets: current,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

export function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string }): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? "POST", headers: opts.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}
