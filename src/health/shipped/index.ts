// Health rules shipped with Tack for popular operators' custom resources, keyed like the built-in table
// ("group/Kind"). A user's CEL or Lua rule for the same kind wins over these; these win over the generic rule.
import type { HealthCheck } from "../types.ts";

export const shippedChecks: ReadonlyMap<string, HealthCheck> = new Map();
