// The only code that talks to the API server: the HTTP client, discovery, the watch-fed live cache and the
// writes. Everything else gets what it needs through these classes.
export { KubeClient, KubeApiError, KubeConnectionError, resourceOf, type RequestObservation, type KubeRequest } from "./kube-client.ts";
export { Discovery, resourcePath, type ResourceType } from "./discovery.ts";
export { Informer, slim, objectKey, type ChangeType, type ChangeHandler } from "./informer.ts";
export { InformerGroup, type ObjectStore } from "./informer-group.ts";
export { describeScope, isConfined, NAMESPACE_NAME, outsideScope, WHOLE_CLUSTER, type ClusterScope, type ScopedObject } from "./scope.ts";
export { LiveCache, type LiveChangeHandler } from "./live-cache.ts";
export { ClusterWriter, NotLeaderError, type PropagationPolicy, type WriteOptions } from "./writes.ts";
export { LeaderElector, type LeaderElectorOptions } from "./lease.ts";
