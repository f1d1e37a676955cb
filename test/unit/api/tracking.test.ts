import { test } from "node:test";
import assert from "node:assert/strict";
import { isOwnedBy, owningApp, trackingId, type KubeObject } from "../../../src/api/index.ts";

const obj = (id: string | undefined, name = "web"): KubeObject => ({
  apiVersion: "apps/v1", kind: "Deployment",
  metadata: { name, namespace: "prod", ...(id ? { annotations: { "tack.dev/tracking-id": id } } : {}) },
});

test("tracking id names the app and the object", () => {
  assert.equal(trackingId({ namespace: "apps", name: "shop" }, { group: "apps", kind: "Deployment", namespace: "prod", name: "web" }),
    "apps_shop:apps/Deployment:prod/web");
  assert.equal(trackingId({ namespace: "apps", name: "shop" }, { group: "", kind: "Namespace", namespace: "", name: "prod" }),
    "apps_shop:/Namespace:/prod");
});

test("an object is owned only when its id matches the object itself", () => {
  assert.deepEqual(owningApp(obj("apps_shop:apps/Deployment:prod/web")), { namespace: "apps", name: "shop" });
  assert.ok(isOwnedBy(obj("apps_shop:apps/Deployment:prod/web"), { namespace: "apps", name: "shop" }));
  assert.ok(!isOwnedBy(obj("apps_shop:apps/Deployment:prod/web"), { namespace: "apps", name: "other" }));
  // Copied from another object: the id names web, the object is api.
  assert.equal(owningApp(obj("apps_shop:apps/Deployment:prod/web", "api")), undefined);
  assert.equal(owningApp(obj(undefined)), undefined);
  assert.equal(owningApp(obj("garbage")), undefined);
});
