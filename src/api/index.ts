// Tack's API types: the Application and AppProject resources (zod schemas and the types inferred from
// them) and the shape shared by all Kubernetes objects. Imported by every other module; imports nothing
// of Tack's.
export * from "./application.ts";
export * from "./app-project.ts";
export * from "./kube-object.ts";
export * from "./annotations.ts";
export * from "./tracking.ts";
