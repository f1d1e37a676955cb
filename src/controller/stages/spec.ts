// Stage "spec": the Application's spec as Tack can work with it, or an InvalidSpecError naming every problem.
import type { Application, ApplicationSource } from "../../api/index.ts";
import { ApplicationSpecSchema } from "../../api/index.ts";
import { InvalidSpecError } from "../../errors.ts";

export type ParsedSpec = ReturnType<typeof ApplicationSpecSchema.parse> & { source: ApplicationSource };

export function parseSpec(app: Application): ParsedSpec {
  const parsed = ApplicationSpecSchema.safeParse(app.spec);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `spec.${i.path.join(".")}: ${i.message}`);
    throw new InvalidSpecError(`invalid spec: ${problems.join("; ")}`);
  }
  const spec = parsed.data;
  if (spec.sources && spec.sources.length > 0) throw new InvalidSpecError("spec.sources (multiple sources) is not supported yet: use spec.source");
  if (!spec.source) throw new InvalidSpecError("spec.source is required");
  const url = spec.source.repoURL;
  if (/^(ssh:\/\/|git@|git:\/\/)/.test(url)) throw new InvalidSpecError(`repoURL '${url}': SSH and git:// URLs are not supported: use an HTTPS URL`);
  if (!/^https?:\/\//.test(url)) throw new InvalidSpecError(`repoURL '${url}' is not an HTTP(S) URL`);
  return spec as ParsedSpec;
}
