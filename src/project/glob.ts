// Glob matching with the syntax Argo CD's util/glob accepts (gobwas/glob): `*` any run of characters
// except the separators, `**` any run including them, `?` one character (not a separator), `[abc]`,
// `[a-z]`, `[!abc]`, `{alt1,alt2}` and `\` to escape. Without separators `*` matches across `/` as well.
// A pattern that does not compile matches nothing (Argo logs and returns false), never throws.

const cache = new Map<string, RegExp | null>();
const CACHE_LIMIT = 2_000;

export function globMatch(pattern: string, value: string, separators = ""): boolean {
  const key = `${separators}\u0000${pattern}`;
  let re = cache.get(key);
  if (re === undefined) {
    re = compile(pattern, separators);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, re);
  }
  return re !== null && re.test(value);
}

function escapeRe(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

/** The pattern as an anchored RegExp, or null when it is malformed (unclosed `[` or `{`, trailing `\`). */
export function compile(pattern: string, separators = ""): RegExp | null {
  const notSep = separators ? `[^${escapeRe(separators)}]` : "[\\s\\S]";
  let i = 0;
  let depth = 0;
  let out = "";
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) return null;
      out += escapeRe(next);
      i += 2;
      continue;
    }
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        out += "[\\s\\S]*";
        while (pattern[i] === "*") i++;
      } else {
        out += `${notSep}*`;
        i++;
      }
      continue;
    }
    if (c === "?") { out += notSep; i++; continue; }
    if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) return null;
      let body = pattern.slice(i + 1, end);
      let negate = false;
      if (body.startsWith("!")) { negate = true; body = body.slice(1); }
      if (body === "") return null;
      // Ranges (a-z) keep their dash; everything else is taken literally.
      const cls = body.replace(/[\\^\]\[]/g, "\\$&");
      out += negate ? `[^${cls}${separators ? escapeRe(separators) : ""}]` : `[${cls}]`;
      i = end + 1;
      continue;
    }
    if (c === "{") { depth++; out += "(?:"; i++; continue; }
    if (c === "}" && depth > 0) { depth--; out += ")"; i++; continue; }
    if (c === "," && depth > 0) { out += "|"; i++; continue; }
    out += escapeRe(c);
    i++;
  }
  if (depth !== 0) return null;
  try {
    return new RegExp(`^${out}$`);
  } catch {
    return null;
  }
}
