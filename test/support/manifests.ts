// Small sample manifests used across integration tests.

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
