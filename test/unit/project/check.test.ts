import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { AppProjectSpec } from "../../../src/api/index.ts";
import {
  checkProject, DEFAULT_PROJECT_SPEC, destinationPermitted, globMatch, groupKindPermitted, normalizeRepoPattern,
  sourcePermitted, type PolicyApp, type PolicyObject,
} from "../../../src/project/index.ts";

const now = new Date("2025-06-04T12:00:00Z");
const opts = { now, manual: false };

function app(over: Partial<PolicyApp["spec"]> = {}): PolicyApp {
  return {
    name: "web", namespace: "team-a",
    spec: {
      project: "team-a",
      source: { repoURL: "https://github.com/acme/web.git", targetRevision: "main" },
      destination: { server: "https://kubernetes.default.svc", namespace: "prod" },
      ...over,
    },
  };
}

const deploy: PolicyObject = { group: "apps", kind: "Deployment", namespace: "prod", name: "web", namespaced: true };
const svc: PolicyObject = { group: "", kind: "Service", namespace: "", name: "web", namespaced: true };
const clusterRole: PolicyObject = { group: "rbac.authorization.k8s.io", kind: "ClusterRole", namespace: "", name: "web-reader", namespaced: false };
const ns: PolicyObject = { group: "", kind: "Namespace", namespace: "", name: "prod", namespaced: false };

const open: AppProjectSpec = {
  sourceRepos: ["*"],
  destinations: [{ server: "*", namespace: "*" }],
};

describe("glob", () => {
  const cases: Array<[string, string, string, boolean]> = [
    ["*", "anything/at/all", "", true],
    ["*", "", "", true],
    ["team-*", "team-a", "", true],
    ["team-*", "ops", "", false],
    ["https://github.com/acme/*", "https://github.com/acme/web", "/", true],
    ["https://github.com/acme/*", "https://github.com/acme/web/sub", "/", false],
    ["https://github.com/acme/**", "https://github.com/acme/web/sub", "/", true],
    ["prod-?", "prod-1", "", true],
    ["prod-?", "prod-12", "", false],
    ["prod-[0-9]", "prod-7", "", true],
    ["prod-[!0-9]", "prod-7", "", false],
    ["prod-[!0-9]", "prod-x", "", true],
    ["{dev,staging}-*", "staging-eu", "", true],
    ["{dev,staging}-*", "prod-eu", "", false],
    ["a\\*b", "a*b", "", true],
    ["a\\*b", "axb", "", false],
    ["[unclosed", "[unclosed", "", false],
    ["{open", "{open", "", false],
    ["a.b", "axb", "", false],
    ["(x)|y", "(x)|y", "", true],
  ];
  for (const [pattern, value, sep, want] of cases) {
    test(`${JSON.stringify(pattern)} ${want ? "matches" : "does not match"} ${JSON.stringify(value)}`, () => {
      assert.equal(globMatch(pattern, value, sep), want);
    });
  }
});

describe("the default project", () => {
  test("undefined (no default AppProject yet) allows everything", () => {
    assert.deepEqual(checkProject(undefined, app(), [deploy, clusterRole], opts), []);
  });
  test("DEFAULT_PROJECT_SPEC allows everything, cluster-scoped kinds included", () => {
    assert.deepEqual(checkProject(DEFAULT_PROJECT_SPEC, app({ project: "default" }), [deploy, svc, clusterRole, ns], opts), []);
  });
});

describe("sourceRepos", () => {
  const spec = (sourceRepos: string[]): AppProjectSpec => ({ ...open, sourceRepos });
  const allowed: Array<[string[], string]> = [
    [["*"], "https://github.com/acme/web.git"],
    [["https://github.com/acme/web"], "https://github.com/acme/web.git"],
    [["https://github.com/acme/web.git"], "https://GitHub.com/acme/web/"],
    [["https://github.com/acme/*"], "https://github.com/acme/web"],
    [["https://github.com/acme/*", "!https://github.com/acme/secret"], "https://github.com/acme/web"],
    [["git@github.com:acme/*"], "ssh://git@github.com/acme/web.git"],
    [["https://github.com/acme/web"], "https://user:token@github.com/acme/web"],
    // A lone negation matches every repository it does not name (Argo CD's globMatch): it allows the rest.
    [["!https://github.com/evil/*"], "https://github.com/acme/web"],
  ];
  for (const [repos, url] of allowed) {
    test(`${JSON.stringify(repos)} allows ${url}`, () => assert.equal(sourcePermitted(spec(repos), url).permitted, true));
  }
  const refused: Array<[string[], string, RegExp]> = [
    [[], "https://github.com/acme/web", /matches no entry of sourceRepos/],
    [["https://github.com/acme/other"], "https://github.com/acme/web", /matches no entry/],
    [["https://github.com/acme/*"], "https://github.com/acme/web/nested", /matches no entry/],
    [["https://github.com/acme/*", "!https://github.com/acme/secret"], "https://github.com/acme/secret.git", /denied by sourceRepos entry '!https:\/\/github.com\/acme\/secret'/],
    [["*", "!https://github.com/evil/*"], "https://github.com/evil/x", /denied/],
  ];
  for (const [repos, url, why] of refused) {
    test(`${JSON.stringify(repos)} refuses ${url}`, () => {
      const v = sourcePermitted(spec(repos), url);
      assert.equal(v.permitted, false);
      assert.match(v.why, why);
    });
  }
  test("the violation names the repository without credentials, and the project", () => {
    const v = checkProject(spec(["https://github.com/other/*"]), app({ source: { repoURL: "https://bob:s3cret@github.com/acme/web" } }), [], opts);
    assert.equal(v.length, 1);
    assert.equal(v[0]!.rule, "sourceRepos");
    assert.doesNotMatch(v[0]!.message, /s3cret/);
    assert.match(v[0]!.message, /github.com\/acme\/web matches no entry of sourceRepos of project 'team-a'/);
  });
  test("patterns are normalised without breaking glob characters", () => {
    assert.equal(normalizeRepoPattern("HTTPS://GitHub.com/Acme/{a,b}.git/"), "https://github.com/acme/{a,b}");
    assert.equal(normalizeRepoPattern("git@github.com:acme/*.git"), "ssh://github.com/acme/*");
    assert.equal(normalizeRepoPattern("https://u:p@host:443/x"), "https://host/x");
  });
});

describe("destinations", () => {
  const spec = (destinations: AppProjectSpec["destinations"]): AppProjectSpec => ({ sourceRepos: ["*"], destinations });
  const inCluster = { server: "https://kubernetes.default.svc", name: "in-cluster" };
  test("server glob and namespace glob", () => {
    const p = spec([{ server: "https://kubernetes.default.svc", namespace: "team-a-*" }]);
    assert.equal(destinationPermitted(p, { ...inCluster, namespace: "team-a-prod" }).permitted, true);
    assert.equal(destinationPermitted(p, { ...inCluster, namespace: "team-b" }).permitted, false);
  });
  test("name instead of server", () => {
    const p = spec([{ name: "prod-*", namespace: "*" }]);
    assert.equal(destinationPermitted(p, { name: "prod-eu", server: "https://10.0.0.1", namespace: "x" }).permitted, true);
    assert.equal(destinationPermitted(p, { name: "dev", server: "https://10.0.0.2", namespace: "x" }).permitted, false);
  });
  test("a destination entry without namespace matches only the empty namespace", () => {
    const p = spec([{ server: "*" }]);
    assert.equal(destinationPermitted(p, { ...inCluster, namespace: "" }).permitted, true);
    assert.equal(destinationPermitted(p, { ...inCluster, namespace: "prod" }).permitted, false);
  });
  test("a ! namespace entry excludes that namespace whatever the allow entries say", () => {
    const p = spec([{ server: "*", namespace: "*" }, { server: "*", namespace: "!kube-system" }]);
    assert.equal(destinationPermitted(p, { ...inCluster, namespace: "prod" }).permitted, true);
    const v = destinationPermitted(p, { ...inCluster, namespace: "kube-system" });
    assert.equal(v.permitted, false);
    assert.match(v.why, /denied by destinations entry/);
  });
  test("a ! server entry excludes that cluster", () => {
    const p = spec([{ server: "*", namespace: "*" }, { server: "!https://prod.example.com", namespace: "*" }]);
    assert.equal(destinationPermitted(p, { server: "https://dev.example.com", namespace: "a" }).permitted, true);
    assert.equal(destinationPermitted(p, { server: "https://prod.example.com", namespace: "a" }).permitted, false);
  });
  test("a ! name entry refuses a destination whose name is unknown (fails closed, as Argo CD)", () => {
    const p = spec([{ server: "*", namespace: "*" }, { name: "!prod", namespace: "*" }]);
    assert.equal(destinationPermitted(p, { server: "https://x", namespace: "a" }).permitted, false);
    assert.equal(destinationPermitted(p, { server: "https://x", name: "dev", namespace: "a" }).permitted, true);
  });
  test("a lone ! namespace entry permits every namespace but the ones it names", () => {
    const p = spec([{ server: "*", namespace: "!kube-*" }]);
    // "!kube-*" as a namespace glob matches every namespace not starting with kube- (Argo CD's globMatch).
    assert.equal(destinationPermitted(p, { ...inCluster, namespace: "prod" }).permitted, true);
    assert.equal(destinationPermitted(p, { ...inCluster, namespace: "kube-public" }).permitted, false);
  });
  test("the in-cluster server is also known as in-cluster, for entries that name it", () => {
    const p = spec([{ name: "in-cluster", namespace: "*" }]);
    assert.deepEqual(checkProject(p, app(), [deploy], opts), []);
  });
  test("destinationName resolves an app that names its cluster by server", () => {
    const p = spec([{ name: "eu-1", namespace: "*" }]);
    const remote = app({ destination: { server: "https://eu-1.example.com", namespace: "prod" } });
    assert.equal(checkProject(p, remote, [], opts).length, 1);
    assert.deepEqual(checkProject(p, remote, [], { ...opts, destinationName: "eu-1" }), []);
  });
  test("the app's destination and every namespaced object's namespace are checked", () => {
    const p = spec([{ server: "*", namespace: "prod" }]);
    const other: PolicyObject = { ...deploy, namespace: "kube-system" };
    const v = checkProject(p, app(), [deploy, svc, other], opts);
    assert.equal(v.length, 1);
    assert.equal(v[0]!.rule, "destinations");
    assert.equal(v[0]!.object, "Deployment/kube-system/web");
    assert.match(v[0]!.message, /^Deployment\/kube-system\/web: namespace 'kube-system' on server https:\/\/kubernetes.default.svc, name in-cluster matches no entry of destinations of project 'team-a'$/);
    const appLevel = checkProject(p, app({ destination: { server: "https://kubernetes.default.svc", namespace: "dev" } }), [], opts);
    assert.equal(appLevel.length, 1);
    assert.equal(appLevel[0]!.object, undefined);
    assert.match(appLevel[0]!.message, /^destination server https:\/\/kubernetes.default.svc, name in-cluster, namespace 'dev' matches no entry/);
  });
});

describe("namespaceResourceWhitelist / Blacklist", () => {
  test("absent whitelist: every namespaced kind", () => {
    assert.equal(groupKindPermitted(open, "apps", "Deployment", true).permitted, true);
  });
  test("whitelist lists the kind (globs on group and kind)", () => {
    const p = { ...open, namespaceResourceWhitelist: [{ group: "apps", kind: "*" }, { group: "", kind: "Service" }] };
    assert.equal(groupKindPermitted(p, "apps", "Deployment", true).permitted, true);
    assert.equal(groupKindPermitted(p, "", "Service", true).permitted, true);
    assert.equal(groupKindPermitted(p, "", "ConfigMap", true).permitted, false);
  });
  test("refused: the message names object, kind, rule and project", () => {
    const p = { ...open, namespaceResourceWhitelist: [{ group: "", kind: "ConfigMap" }] };
    const v = checkProject(p, app(), [deploy], opts);
    assert.deepEqual(v, [{
      rule: "namespaceResourceWhitelist", object: "Deployment/prod/web",
      message: "Deployment/prod/web: kind apps/Deployment is not in namespaceResourceWhitelist of project 'team-a'",
    }]);
  });
  test("a present but empty whitelist permits no namespaced kind (Argo CD)", () => {
    const p = { ...open, namespaceResourceWhitelist: [] };
    const v = groupKindPermitted(p, "", "ConfigMap", true);
    assert.equal(v.permitted, false);
    assert.match(v.why, /empty/);
  });
  test("blacklist subtracts from the whitelist", () => {
    const p = { ...open, namespaceResourceBlacklist: [{ group: "", kind: "Secret" }, { group: "*.k8s.io", kind: "*" }] };
    assert.equal(groupKindPermitted(p, "", "ConfigMap", true).permitted, true);
    const secret = groupKindPermitted(p, "", "Secret", true);
    assert.deepEqual([secret.permitted, secret.rule], [false, "namespaceResourceBlacklist"]);
    assert.equal(groupKindPermitted(p, "networking.k8s.io", "NetworkPolicy", true).permitted, false);
  });
  test("namespaced lists do not apply to cluster-scoped kinds", () => {
    const p = { ...open, clusterResourceWhitelist: [{ group: "*", kind: "*" }], namespaceResourceWhitelist: [] };
    assert.equal(groupKindPermitted(p, "", "Namespace", false).permitted, true);
  });
});

describe("clusterResourceWhitelist / Blacklist", () => {
  test("absent whitelist: no cluster-scoped kind (only the default project allows them by default)", () => {
    const v = checkProject(open, app(), [clusterRole], opts);
    assert.equal(v.length, 1);
    assert.equal(v[0]!.rule, "clusterResourceWhitelist");
    assert.equal(v[0]!.object, "ClusterRole/web-reader");
    assert.match(v[0]!.message, /^ClusterRole\/web-reader: kind rbac.authorization.k8s.io\/ClusterRole is cluster-scoped and the project has no clusterResourceWhitelist/);
  });
  test("whitelisted kind allowed, others refused", () => {
    const p = { ...open, clusterResourceWhitelist: [{ group: "", kind: "Namespace" }] };
    assert.deepEqual(checkProject(p, app(), [ns], opts), []);
    const v = checkProject(p, app(), [ns, clusterRole], opts);
    assert.deepEqual(v.map((x) => x.object), ["ClusterRole/web-reader"]);
    assert.match(v[0]!.message, /is not in clusterResourceWhitelist of project 'team-a'/);
  });
  test("blacklist beats whitelist", () => {
    const p = { ...open, clusterResourceWhitelist: [{ group: "*", kind: "*" }], clusterResourceBlacklist: [{ group: "rbac.authorization.k8s.io", kind: "Cluster*" }] };
    assert.deepEqual(checkProject(p, app(), [ns], opts), []);
    const v = checkProject(p, app(), [clusterRole], opts);
    assert.equal(v[0]!.rule, "clusterResourceBlacklist");
  });
  test("cluster-scoped objects are not checked against destination namespaces", () => {
    const p: AppProjectSpec = { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "prod" }], clusterResourceWhitelist: [{ group: "*", kind: "*" }] };
    assert.deepEqual(checkProject(p, app(), [clusterRole, ns], opts), []);
  });
});

describe("checkProject with sync windows", () => {
  const p: AppProjectSpec = { ...open, syncWindows: [{ kind: "deny", schedule: "0 12 * * *", duration: "1h", namespaces: ["prod"] }] };
  test("an active deny window is a syncWindows violation", () => {
    const v = checkProject(p, app(), [deploy], opts);
    assert.equal(v.length, 1);
    assert.equal(v[0]!.rule, "syncWindows");
    assert.match(v[0]!.message, /sync blocked by deny window '0 12 \* \* \*' for 1h of project 'team-a'/);
  });
  test("skipSyncWindows leaves them out (for a comparison that will not sync)", () => {
    assert.deepEqual(checkProject(p, app(), [deploy], { ...opts, skipSyncWindows: true }), []);
  });
});
