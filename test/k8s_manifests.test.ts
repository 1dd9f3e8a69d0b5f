// The Kubernetes manifests (deploy/k8s/, docs/scale-out.md): base and every overlay rendered with
// `kubectl kustomize` (offline), every object checked against the Kubernetes schemas
// (kubernetes-models), and the invariants a schema cannot see: names, selectors, ports and settings
// that must agree across objects, and the distributor's own config parser on the ConfigMap.
// kubernetes-models does not reject unknown fields, so a misspelt optional field would pass the
// schema check; the invariants below read the fields that matter by name, which catches those.

import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { loadDistributorConfig } from "../src/distributor/config.ts";
import {
  byKind,
  containerEnv,
  containerPort,
  type K8sObject,
  kubectl,
  kustomizations,
  named,
  render,
  schemaError,
  selects,
  workloadsSelected,
  type Yaml,
} from "../testkit/k8s.ts";

setDefaultTimeout(60_000); // kubectl is a child process; see test/setup.ts

test("kubectl is installed (it renders the manifests: `kubectl kustomize`)", () => {
  // Not a skip: CI's machine has kubectl, and a missing one must not turn these checks into a pass.
  expect(kubectl(), "install kubectl (on this project's machines it comes with the image)").not.toBeNull();
});

const rendered = new Map<string, K8sObject[]>();
async function objectsOf(dir: string): Promise<K8sObject[]> {
  if (!rendered.has(dir)) rendered.set(dir, await render(dir));
  return rendered.get(dir)!;
}

type Container = Yaml;
const containersOf = (workload: K8sObject): Container[] => workload.spec.template.spec.containers;
const workloads = (objects: K8sObject[]) => objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet");
const distributorOf = (objects: K8sObject[]) => named(objects, "StatefulSet", "distributor");

describe.each(kustomizations())("deploy/k8s/%s", (dir) => {
  test("renders, and every object matches its Kubernetes schema", async () => {
    const objects = await objectsOf(dir);
    expect(objects.length).toBeGreaterThan(0);
    const errors = objects.map((o) => [`${o.kind}/${o.metadata.name}`, schemaError(o)]).filter(([, e]) => e !== null);
    expect(errors).toEqual([]);
  });

  test("every Service selects the pods of a workload, and every workload's selector matches its own pods", async () => {
    const objects = await objectsOf(dir);
    for (const service of byKind(objects, "Service"))
      expect(
        workloadsSelected(objects, service.spec.selector).map((w) => w.metadata.name),
        service.metadata.name,
      ).not.toEqual([]);
    for (const w of workloads(objects))
      expect(selects(w.spec.selector.matchLabels, w.spec.template.metadata.labels), w.metadata.name).toBe(true);
    for (const pdb of byKind(objects, "PodDisruptionBudget"))
      expect(workloadsSelected(objects, pdb.spec.selector.matchLabels), pdb.metadata.name).not.toEqual([]);
  });

  test("every Service's targetPort is a port its pods listen on (their PORT)", async () => {
    const objects = await objectsOf(dir);
    for (const service of byKind(objects, "Service")) {
      for (const w of workloadsSelected(objects, service.spec.selector)) {
        const [container] = containersOf(w);
        for (const port of service.spec.ports) {
          const target = containerPort(container, port.targetPort ?? port.port);
          expect(target, `${service.metadata.name} → ${w.metadata.name}`).toBe(
            Number(containerEnv(objects, container).PORT),
          );
        }
      }
    }
  });

  test("readiness and liveness probes ask /health on the port the container listens on (its PORT)", async () => {
    const objects = await objectsOf(dir);
    for (const w of workloads(objects)) {
      for (const container of containersOf(w)) {
        const port = Number(containerEnv(objects, container).PORT);
        expect(port, `${w.metadata.name}: PORT`).toBeGreaterThan(0);
        for (const probe of [container.readinessProbe, container.livenessProbe]) {
          expect(probe?.httpGet?.path, w.metadata.name).toBe("/health");
          expect(containerPort(container, probe.httpGet.port), w.metadata.name).toBe(port);
        }
      }
    }
  });

  test("ANALYZER_GROUPS loads with the distributor's own parser, and each group is a headless Service in front of analyzers on ANALYZER_PORT", async () => {
    const objects = await objectsOf(dir);
    const [container] = containersOf(distributorOf(objects));
    const env = containerEnv(objects, container);
    const config = loadDistributorConfig(env);
    expect(config.groups.length).toBeGreaterThan(0);
    for (const group of config.groups) {
      // A name may be qualified (analyzer-main.logs.svc.cluster.local): its first label is the Service.
      const service = named(objects, "Service", group.name.split(".")[0]);
      expect(service.spec.clusterIP, group.name).toBe("None");
      const [analyzers] = workloadsSelected(objects, service.spec.selector);
      expect(analyzers?.kind, group.name).toBe("Deployment");
      const analyzer = containersOf(analyzers)[0];
      expect(analyzer.args, group.name).toEqual(["run", "analyzer.ts"]);
      expect(Number(containerEnv(objects, analyzer).PORT), group.name).toBe(config.discovery!.port);
    }
    // And nothing else is headless but the StatefulSet's own Service; the one clients use is not.
    const headless = byKind(objects, "Service").filter((s) => s.spec.clusterIP === "None");
    expect(headless.map((s) => s.metadata.name).sort()).toEqual(
      [...config.groups.map((g) => g.name.split(".")[0]), distributorOf(objects).spec.serviceName].sort(),
    );
    expect(named(objects, "Service", "distributor").spec.clusterIP).toBeUndefined();
  });

  test("no hostPort, no privilege: non-root, read-only root filesystem, no capabilities, requests and limits", async () => {
    const objects = await objectsOf(dir);
    for (const w of workloads(objects)) {
      const pod = w.spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot, w.metadata.name).toBe(true);
      expect(pod.securityContext?.runAsUser, w.metadata.name).toBeGreaterThan(0);
      expect(pod.hostNetwork, w.metadata.name).toBeUndefined();
      for (const c of pod.containers) {
        expect(
          (c.ports ?? []).filter((p: { hostPort?: number }) => p.hostPort !== undefined),
          w.metadata.name,
        ).toEqual([]);
        expect(c.securityContext, w.metadata.name).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
        });
        for (const kind of ["requests", "limits"])
          expect(Object.keys(c.resources?.[kind] ?? {}).sort(), `${w.metadata.name} ${kind}`).toEqual([
            "cpu",
            "memory",
          ]);
        // Bun writes nothing to its root but may to /tmp: a writable emptyDir there.
        const tmp = c.volumeMounts?.find((m: { mountPath: string }) => m.mountPath === "/tmp");
        expect(
          pod.volumes.find((v: { name: string }) => v.name === tmp?.name)?.emptyDir,
          w.metadata.name,
        ).toBeDefined();
      }
    }
  });

  test("the distributor keeps its spool on its own volume: a claim per replica mounted writable at /data, SPOOL_DIR under it", async () => {
    const objects = await objectsOf(dir);
    const sts = distributorOf(objects);
    const [container] = containersOf(sts);
    const claim = sts.spec.volumeClaimTemplates.find((t: K8sObject) => t.metadata.name === "data");
    expect(claim?.spec.accessModes).toEqual(["ReadWriteOnce"]);
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === "data");
    expect(mount).toMatchObject({ mountPath: "/data" });
    expect(mount.readOnly).toBeUndefined();
    expect(containerEnv(objects, container).SPOOL_DIR).toBe("/data/spool");
    // The volume is writable by the non-root user: Kubernetes gives it fsGroup's group.
    expect(sts.spec.template.spec.securityContext.fsGroup).toBe(sts.spec.template.spec.securityContext.runAsGroup);
  });

  test("a stopping distributor has time to drain: grace period > preStop + SHUTDOWN_TIMEOUT_MS", async () => {
    const objects = await objectsOf(dir);
    const sts = distributorOf(objects);
    const [container] = containersOf(sts);
    const preStop = container.lifecycle.preStop.sleep.seconds;
    const shutdown = Number(containerEnv(objects, container).SHUTDOWN_TIMEOUT_MS) / 1000;
    expect(preStop).toBeGreaterThan(0);
    expect(sts.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(preStop + shutdown);
    expect(named(objects, "PodDisruptionBudget", "distributor").spec.maxUnavailable).toBe(1);
    expect(sts.spec.replicas).toBeGreaterThanOrEqual(2);
  });
});

test("the local overlay is what `bun run test:k8s` expects: 2 distributors, analyzer-main ×2 weight 3, analyzer-canary ×1 weight 1", async () => {
  const objects = await objectsOf("overlays/local");
  expect(distributorOf(objects).spec.replicas).toBe(2);
  expect(named(objects, "Deployment", "analyzer-main").spec.replicas).toBe(2);
  expect(named(objects, "Deployment", "analyzer-canary").spec.replicas).toBe(1);
  const env = containerEnv(objects, containersOf(distributorOf(objects))[0]);
  expect(loadDistributorConfig(env).groups).toEqual([
    { name: "analyzer-main", weight: 3 },
    { name: "analyzer-canary", weight: 1 },
  ]);
});

test("the invariants can fail: a Service whose selector matches no pods, and a probe on another port, are caught", () => {
  const objects: K8sObject[] = [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "a" },
      spec: { template: { metadata: { labels: { app: "a" } } } },
    },
  ];
  expect(workloadsSelected(objects, { app: "b" })).toEqual([]);
  expect(workloadsSelected(objects, {})).toEqual([]);
  expect(containerPort({ ports: [{ name: "http", containerPort: 5000 }] }, "metrics")).toBeUndefined();
  expect(
    schemaError({ apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [{ port: "x" }] } }),
  ).toContain("port");
});
