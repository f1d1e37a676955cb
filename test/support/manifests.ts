// Small sample manifests used across integration tests.
import { simulatedPod } from "./control-plane.ts";

export function configMapYaml(name: string, data: Record<string, string>): string {
  const lines = Object.entries(data).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n${lines.join("\n")}\n`;
}

export function deploymentYaml(name: string, replicas = 1, image = "registry.invalid/web:1.0"): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
    app: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
        - name: web
          image: ${image}
          ports:
            - containerPort: 8080
          resources:
            requests:
              cpu: 100m
              memory: 64Mi
`;
}

export function serviceYaml(name: string): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector:
    app: ${name}
  ports:
    - port: 80
      targetPort: 8080
`;
}

/** A repo with a Deployment, a Service and a ConfigMap under `path`. */
export function webAppFiles(path = "app"): Record<string, string> {
  return {
    [`${path}/deployment.yaml`]: deploymentYaml("web"),
    [`${path}/service.yaml`]: serviceYaml("web"),
    [`${path}/config.yaml`]: configMapYaml("web-config", { greeting: "hello" }),
  };
}

/** A ConfigMap in a sync wave (the wave annotation Argo CD uses by default, or another key such as tack.dev/sync-wave). */
export function waveConfigMapYaml(name: string, wave: number, annotationKey = "argocd.argoproj.io/sync-wave"): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  annotations:\n    ${annotationKey}: "${wave}"\ndata:\n  wave: "${wave}"\n`;
}

/** A Deployment in a sync wave whose simulated pod waits `delay` before each transition: its wave stays in progress. */
export function slowDeploymentYaml(name: string, wave: number, delay: string): string {
  const annotations = Object.entries(simulatedPod({ delay })).map(([k, v]) => `        ${k}: "${v}"`).join("\n");
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  annotations:
    argocd.argoproj.io/sync-wave: "${wave}"
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}}
      annotations:
${annotations}
    spec:
      containers: [{name: main, image: registry.invalid/${name}:1}]
`;
}
