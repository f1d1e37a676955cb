// JSON merge patch (RFC 7386) from one document to another: objects are diffed key by key, removed keys
// become null, anything else (arrays, scalars) is replaced whole.
export function mergePatch(from: unknown, to: unknown): unknown {
  if (!isPlainObject(from) || !isPlainObject(to)) return to;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(from)) if (!(key in to) || to[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined) continue;
    if (!(key in from)) { patch[key] = value; continue; }
    const sub = mergePatch(from[key], value);
    if (isPlainObject(sub) && isPlainObject(from[key]) && isPlainObject(value) && Object.keys(sub).length === 0) continue;
    if (!isPlainObject(sub) && JSON.stringify(from[key]) === JSON.stringify(value)) continue;
    patch[key] = sub;
  }
  return patch;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
