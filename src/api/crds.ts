// Builds the CustomResourceDefinitions from the zod schemas, so the API server and the controller validate
// the same shape. The output is committed in crds/ (npm run gen:crds) and checked by a test.
import { z } from "zod";
import { API_GROUP, API_VERSION, ApplicationSpecSchema, ApplicationStatusSchema, OperationSchema } from "./application.ts";
import { AppProjectSpecSchema, AppProjectStatusSchema } from "./app-project.ts";

type JsonSchema = Record<string, unknown>;

/** zod's OpenAPI 3.0 output, made structural as Kubernetes requires (apiextensions.k8s.io/v1). */
export function toStructural(schema: unknown): JsonSchema {
  if (Array.isArray(schema)) return schema.map(toStructural) as unknown as JsonSchema;
  if (typeof schema !== "object" || schema === null) return schema as JsonSchema;
  const s = { ...(schema as JsonSchema) };
  delete s.$schema;
  delete s.default;   // defaults are applied by the controller's parse, not stored by the API server
  if (s.minimum === Number.MIN_SAFE_INTEGER) delete s.minimum;
  if (s.maximum === Number.MAX_SAFE_INTEGER) delete s.maximum;
  if (s["x-kubernetes-preserve-unknown-fields"] === true) {
    delete s.additionalProperties;
  } else if (s.additionalProperties === false) {
    delete s.additionalProperties;
  }
  const anyOf = s.anyOf as JsonSchema[] | undefined;
  if (anyOf) {
    const types = new Set(anyOf.map((branch) => branch.type));
    if (types.size === 2 && types.has("integer") && types.has("string")) {
      return { "x-kubernetes-int-or-string": true, ...(s.description ? { description: s.description } : {}) };
    }
  }
  for (const [key, value] of Object.entries(s)) {
    if (key === "properties" && value && typeof value === "object") {
      s.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toStructural(v)]));
    } else if (typeof value === "object" && value !== null && key !== "enum" && key !== "required") {
      s[key] = toStructural(value);
    }
  }
  return s;
}

function jsonSchema(schema: z.ZodType): JsonSchema {
  return toStructural(z.toJSONSchema(schema, { target: "openapi-3.0", io: "input", unrepresentable: "any" }));
}

const printerColumns = [
  { name: "Sync Status", type: "string", jsonPath: ".status.sync.status" },
  { name: "Health Status", type: "string", jsonPath: ".status.health.status" },
  { name: "Revision", type: "string", jsonPath: ".status.sync.revision" },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

function crd(plural: string, kind: string, shortNames: string[], properties: Record<string, JsonSchema>,
  columns: Array<Record<string, unknown>>): Record<string, unknown> {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames, categories: ["tack"] },
      scope: "Namespaced",
      versions: [{
        name: API_VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: columns,
        schema: {
          openAPIV3Schema: {
            type: "object",
            required: ["spec"],
            properties: {
              apiVersion: { type: "string" },
              kind: { type: "string" },
              metadata: { type: "object" },
              ...properties,
            },
          },
        },
      }],
    },
  };
}

export function buildCrds(): Array<Record<string, unknown>> {
  return [
    crd("applications", "Application", ["app", "apps"], {
      spec: jsonSchema(ApplicationSpecSchema),
      operation: jsonSchema(OperationSchema),
      status: jsonSchema(ApplicationStatusSchema),
    }, printerColumns),
    crd("appprojects", "AppProject", ["appproj", "appprojs"], {
      spec: jsonSchema(AppProjectSpecSchema),
      status: jsonSchema(AppProjectStatusSchema),
    }, [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }]),
  ];
}
