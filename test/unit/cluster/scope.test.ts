import assert from "node:assert/strict";
import { test } from "node:test";
import { outsideScope, WHOLE_CLUSTER, type ClusterScope } from "../../../src/cluster/index.ts";
import { loadConfig } from "../../../src/config.ts";
import { parseClusterSecret } from "../../../src/controller/clusters.ts";

const confined: ClusterScope = { namespaces: ["team-a", "team-b"], clusterResources: false };
const cm = (namespace: string) => ({ kind: "ConfigMap", namespace, name: "settings", namespaced: true });
const role = { kind: "ClusterRole", namespace: "", name: "reader", namespaced: false };

test("a confined scope admits its namespaces only, and cluster-scoped objects only with clusterResources", () => {
  assert.equal(outsideScope(confined, cm("team-a")), undefined);
  assert.match(outsideScope(confined, cm("team-c"))!, /ConfigMap\/team-c\/settings is in namespace 'team-c', which is not managed here/);
  assert.match(outsideScope(confined, role)!, /ClusterRole\/reader is cluster-scoped/);
  assert.equal(outsideScope({ ...confined, clusterResources: true }, role), undefined);
  assert.equal(outsideScope(WHOLE_CLUSTER, cm("anything")), undefined, "not confined: everything");
  assert.equal(outsideScope(WHOLE_CLUSTER, role), undefined);
});

test("--managed-namespaces: a list of namespace names, refused when an entry is not one", () => {
  const config = loadConfig({}, ["--managed-namespaces=team-a, team-b", "--manage-cluster-resources=true"]);
  assert.deepEqual(config.managedNamespaces, ["team-a", "team-b"]);
  assert.equal(config.manageClusterResources, true);
  assert.deepEqual(loadConfig({}, []).managedNamespaces, [], "whole cluster by default");
  assert.equal(loadConfig({ TACK_MANAGED_NAMESPACES: "team-a" }, []).manageClusterResources, false);
  assert.throws(() => loadConfig({}, ["--managed-namespaces=Team_A"]), /managed-namespaces: each entry must be a namespace name/);
  assert.throws(() => loadConfig({}, ["--application-namespaces=a/b"]), /application-namespaces/);
});

test("a cluster Secret's namespaces and clusterResources fields (Argo CD's) confine that cluster", () => {
  const secret = (extra: Record<string, string>) => ({
    apiVersion: "v1", kind: "Secret", metadata: { name: "prod", namespace: "tack-system" },
    stringData: { server: "https://prod.example:6443", config: JSON.stringify({ bearerToken: "t" }), ...extra },
  });
  assert.deepEqual(parseClusterSecret(secret({})).scope, WHOLE_CLUSTER);
  assert.deepEqual(parseClusterSecret(secret({ namespaces: "shop, payments" })).scope, { namespaces: ["shop", "payments"], clusterResources: false });
  assert.equal(parseClusterSecret(secret({ namespaces: "shop", clusterResources: "true" })).scope.clusterResources, true);
  assert.throws(() => parseClusterSecret(secret({ namespaces: "shop,Bad Name" })), /'namespaces' entry 'Bad Name' is not a namespace name/);
  assert.throws(() => parseClusterSecret(secret({ namespaces: "shop", clusterResources: "yes" })), /'clusterResources' must be "true" or "false"/);
});
