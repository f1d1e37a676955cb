import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  parseGoDuration, syncWindowState, windowActive, windowMatches, type SyncWindow, type WindowTarget,
} from "../../../src/project/index.ts";

const app: WindowTarget = { name: "web", spec: { destination: { server: "https://kubernetes.default.svc", name: "in-cluster", namespace: "prod" } } };
const at = (iso: string) => new Date(iso);
const w = (over: Partial<SyncWindow>): SyncWindow => ({ kind: "deny", schedule: "0 22 * * *", duration: "1h", applications: ["*"], ...over });

describe("parseGoDuration", () => {
  const cases: Array<[string, number | undefined]> = [
    ["1h", 3_600_000], ["30m", 1_800_000], ["1h30m", 5_400_000], ["1.5h", 5_400_000], ["90s", 90_000],
    ["250ms", 250], ["0", 0], ["0s", 0], ["", undefined], ["1d", undefined], ["-1h", undefined], ["h", undefined], ["1 h", undefined],
  ];
  for (const [text, ms] of cases) test(`${JSON.stringify(text)} → ${ms}`, () => assert.equal(parseGoDuration(text), ms));
});

describe("windowActive: [start, start + duration)", () => {
  const deny = w({ schedule: "0 22 * * *", duration: "1h" });
  test("before the start: inactive", () => assert.equal(windowActive(deny, at("2025-06-04T21:59:59.999Z")), false));
  test("at the start: active", () => assert.equal(windowActive(deny, at("2025-06-04T22:00:00Z")), true));
  test("inside: active", () => assert.equal(windowActive(deny, at("2025-06-04T22:59:59Z")), true));
  test("at the end: inactive", () => assert.equal(windowActive(deny, at("2025-06-04T23:00:00Z")), false));
  test("a window that spans midnight", () => {
    const night = w({ schedule: "0 23 * * *", duration: "3h" });
    assert.equal(windowActive(night, at("2025-06-05T01:30:00Z")), true);
    assert.equal(windowActive(night, at("2025-06-05T02:00:00Z")), false);
  });
  test("a duration longer than the period keeps the window open", () => {
    assert.equal(windowActive(w({ schedule: "*/10 * * * *", duration: "15m" }), at("2025-06-04T10:07:00Z")), true);
  });
  test("day-of-week windows (weekends)", () => {
    const weekend = w({ schedule: "0 0 * * 6", duration: "48h" });
    assert.equal(windowActive(weekend, at("2025-06-07T10:00:00Z")), true);   // Saturday
    assert.equal(windowActive(weekend, at("2025-06-08T23:59:00Z")), true);   // Sunday
    assert.equal(windowActive(weekend, at("2025-06-09T00:00:00Z")), false);  // Monday
  });
  test("duration 0 is never active", () => assert.equal(windowActive(w({ schedule: "* * * * *", duration: "0" }), at("2025-06-04T10:00:00Z")), false));
  test("invalid schedule, duration or time zone: a message, not a throw", () => {
    assert.match(String(windowActive(w({ schedule: "not cron" }), at("2025-06-04T10:00:00Z"))), /schedule 'not cron'/);
    assert.match(String(windowActive(w({ schedule: "0 0 10 * * *" }), at("2025-06-04T10:00:00Z"))), /5-field/);
    assert.match(String(windowActive(w({ duration: "1 day" }), at("2025-06-04T10:00:00Z"))), /duration '1 day'/);
    assert.match(String(windowActive(w({ timeZone: "Mars/Olympus" }), at("2025-06-04T10:00:00Z"))), /time zone 'Mars\/Olympus'/);
  });
});

describe("time zones and DST", () => {
  const berlin = (over: Partial<SyncWindow> = {}) => w({ schedule: "0 9 * * *", duration: "1h", timeZone: "Europe/Berlin", ...over });
  test("a 09:00 Europe/Berlin window is 07:00Z in summer and 08:00Z in winter", () => {
    assert.equal(windowActive(berlin(), at("2025-07-01T07:30:00Z")), true);
    assert.equal(windowActive(berlin(), at("2025-07-01T08:30:00Z")), false);
    assert.equal(windowActive(berlin(), at("2025-01-15T08:30:00Z")), true);
    assert.equal(windowActive(berlin(), at("2025-01-15T07:30:00Z")), false);
  });
  test("the day after the spring-forward change follows the new offset (Argo CD would be an hour off)", () => {
    // 2025-03-30 02:00 CET → 03:00 CEST. On 2025-03-31 09:00 Berlin is 07:00Z.
    assert.equal(windowActive(berlin(), at("2025-03-31T07:10:00Z")), true);
    assert.equal(windowActive(berlin(), at("2025-03-29T08:10:00Z")), true);
  });
  test("a start inside the spring-forward gap opens at the first valid time after it", () => {
    const gap = berlin({ schedule: "30 2 * * *", duration: "1h" });
    // 02:30 does not exist on 2025-03-30; the window opens at 03:00 CEST = 01:00Z and lasts one hour.
    assert.equal(windowActive(gap, at("2025-03-30T00:59:00Z")), false);
    assert.equal(windowActive(gap, at("2025-03-30T01:00:00Z")), true);
    assert.equal(windowActive(gap, at("2025-03-30T01:59:00Z")), true);
    assert.equal(windowActive(gap, at("2025-03-30T02:00:00Z")), false);
  });
  test("a start that occurs twice at fall-back opens once, at the first occurrence", () => {
    const twice = berlin({ schedule: "30 2 * * *", duration: "30m" });
    // 2025-10-26: 02:30 CEST = 00:30Z, then 02:30 CET = 01:30Z.
    assert.equal(windowActive(twice, at("2025-10-26T00:45:00Z")), true);
    assert.equal(windowActive(twice, at("2025-10-26T01:45:00Z")), false);
  });
  test("durations are elapsed time: a 3h window over the fall-back change ends 3 real hours later", () => {
    const over = berlin({ schedule: "0 1 * * *", duration: "3h" });  // 01:00 CEST = 23:00Z the day before
    assert.equal(windowActive(over, at("2025-10-26T01:59:00Z")), true);   // 02:59 CET
    assert.equal(windowActive(over, at("2025-10-26T02:00:00Z")), false);
  });
  test("America/New_York, and UTC by default", () => {
    const ny = w({ schedule: "0 17 * * 1-5", duration: "1h", timeZone: "America/New_York" });
    assert.equal(windowActive(ny, at("2025-06-04T21:30:00Z")), true);   // Wed 17:30 EDT
    assert.equal(windowActive(w({ schedule: "0 17 * * *" }), at("2025-06-04T17:30:00Z")), true);
  });
});

describe("windowMatches", () => {
  test("applications, namespaces, clusters (server or name), globs", () => {
    assert.equal(windowMatches(w({ applications: ["we*"] }), app), true);
    assert.equal(windowMatches(w({ applications: ["api"] }), app), false);
    assert.equal(windowMatches(w({ applications: undefined, namespaces: ["pro?"] }), app), true);
    assert.equal(windowMatches(w({ applications: undefined, clusters: ["in-*"] }), app), true);
    assert.equal(windowMatches(w({ applications: undefined, clusters: ["https://kubernetes.*"] }), app), true);
    assert.equal(windowMatches(w({ applications: undefined, clusters: ["eu-1"] }), app), false);
    assert.equal(windowMatches(w({ applications: undefined, clusters: ["eu-1"] }), app, { destinationName: "eu-1" }), true);
  });
  test("a window that names nothing matches nothing", () => {
    assert.equal(windowMatches(w({ applications: undefined }), app), false);
  });
});

describe("syncWindowState (Argo CD's CanSync)", () => {
  const inDeny = at("2025-06-04T22:30:00Z");
  const outside = at("2025-06-04T12:00:00Z");
  test("no windows / no matching windows: allowed", () => {
    assert.deepEqual(syncWindowState(undefined, app, inDeny, false), { allowed: true, reason: "no sync window applies" });
    assert.equal(syncWindowState([w({ applications: ["other"] })], app, inDeny, false).allowed, true);
  });
  test("active deny blocks automated and manual syncs", () => {
    const s = syncWindowState([w({})], app, inDeny, false, { projectName: "team-a" });
    assert.equal(s.allowed, false);
    assert.match(s.reason, /sync blocked by deny window '0 22 \* \* \*' for 1h of project 'team-a'/);
    assert.equal(syncWindowState([w({})], app, inDeny, true).allowed, false);
  });
  test("manualSync lets a manual sync through a deny window, never an automated one", () => {
    assert.equal(syncWindowState([w({ manualSync: true })], app, inDeny, true).allowed, true);
    assert.equal(syncWindowState([w({ manualSync: true })], app, inDeny, false).allowed, false);
  });
  test("with two active deny windows, manual passes only if both have manualSync", () => {
    const both = [w({ manualSync: true }), w({ schedule: "0 20 * * *", duration: "4h" })];
    assert.equal(syncWindowState(both, app, inDeny, true).allowed, false);
    both[1]!.manualSync = true;
    assert.equal(syncWindowState(both, app, inDeny, true).allowed, true);
  });
  test("inactive deny: allowed", () => assert.equal(syncWindowState([w({})], app, outside, false).allowed, true));
  test("deny beats an active allow", () => {
    const s = syncWindowState([w({ kind: "allow", schedule: "0 0 * * *", duration: "24h" }), w({})], app, inDeny, false);
    assert.equal(s.allowed, false);
  });
  test("with an allow window defined, syncs outside it are blocked", () => {
    const allow = [w({ kind: "allow", schedule: "0 8 * * 1-5", duration: "10h" })];
    assert.equal(syncWindowState(allow, app, at("2025-06-04T12:00:00Z"), false).allowed, true);
    const s = syncWindowState(allow, app, at("2025-06-04T19:00:00Z"), false);
    assert.equal(s.allowed, false);
    assert.match(s.reason, /outside every allow window/);
    assert.equal(syncWindowState(allow, app, at("2025-06-07T12:00:00Z"), true).allowed, false);  // Saturday, manual
  });
  test("outside allow windows, manual syncs pass only if every allow window has manualSync", () => {
    const allows = [w({ kind: "allow", schedule: "0 8 * * *", duration: "1h", manualSync: true }), w({ kind: "allow", schedule: "0 14 * * *", duration: "1h" })];
    assert.equal(syncWindowState(allows, app, at("2025-06-04T20:00:00Z"), true).allowed, false);
    allows[1]!.manualSync = true;
    assert.equal(syncWindowState(allows, app, at("2025-06-04T20:00:00Z"), true).allowed, true);
    assert.equal(syncWindowState(allows, app, at("2025-06-04T20:00:00Z"), false).allowed, false);
  });
  test("one active allow among several is enough", () => {
    const allows = [w({ kind: "allow", schedule: "0 8 * * *", duration: "1h" }), w({ kind: "allow", schedule: "0 20 * * *", duration: "1h" })];
    assert.equal(syncWindowState(allows, app, at("2025-06-04T20:30:00Z"), false).allowed, true);
  });
  test("an invalid matching window fails closed with a message naming it", () => {
    const s = syncWindowState([w({ timeZone: "Nowhere/Land" })], app, outside, true);
    assert.equal(s.allowed, false);
    assert.match(s.reason, /deny window '0 22 \* \* \*' for 1h \(Nowhere\/Land\) is invalid \(time zone 'Nowhere\/Land'/);
  });
});
