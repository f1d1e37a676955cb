// Messages that list things (objects, violations, fields) show the first few and count the rest, one way
// everywhere, so a condition stays readable when a render holds thousands of objects.

/** "a; b; c; and 4 more": at most `max` items joined by `separator`, then how many were left out. */
export function firstFew(items: readonly string[], max = 5, separator = "; "): string {
  const shown = items.slice(0, max).join(separator);
  return items.length > max ? `${shown}${separator}and ${items.length - max} more` : shown;
}
