// Every reason Tack can put on a condition is one a user can look up: the README's reference lists each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { ErrorReason } from "../../src/errors.ts";

test("each ErrorReason is documented in the README's reference", async () => {
  const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
  const reference = readme.slice(readme.indexOf("### Conditions"), readme.indexOf("### Events"));
  const missing = Object.values(ErrorReason).filter((reason) => !reference.includes(`\`${reason}\``));
  assert.deepEqual(missing, [], "reasons missing from README.md § Conditions");
});

test("each Event reason is documented in the README's reference", async () => {
  const { EventReason } = await import("../../src/controller/events.ts");
  const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
  const reference = readme.slice(readme.indexOf("### Events"), readme.indexOf("### Sync options"));
  const missing = Object.values(EventReason).filter((reason) => !reference.includes(`\`${reason}\``));
  assert.deepEqual(missing, [], "Event reasons missing from README.md § Events");
});
