// The Kubernetes manifests under deploy/k8s/ as objects: rendered by `kubectl kustomize` (offline,
// no cluster), checked against the Kubernetes schemas by kubernetes-models, and the few lookups the
// invariant tests (test/k8s_manifests.test.ts) and `bun run test:k8s` (scripts/k8s-test.ts) share.

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Service } from "kubernetes-models/v1";

export const K8S_DIR = join(import.meta.dir, "..", "deploy", "k8s");

/** Parsed YAML: the invariant checks read what they need by name. */
// biome-ignore lint/suspicious/noExplicitAny: manifests are arbitrary YAML until validated
export type Yaml = any;

/** A rendered object. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: Yaml };
  [k: string]: Yaml;
};

/** base and every overlay, as kustomization directories relative to deploy/k8s. */
export function kustomizations(): string[] {
  const overlays = join(K8S_DIR, "overlays");
  const names = existsSync(overlays) ? readdirSync(overlays).sort() : [];
  return ["base", ...names.map((n) => `overlays/${n}`)];
}

/** kubectl on PATH, or null. */
export function kubectl(): string | null {
  return Bun.which("kubectl");
}

/** `kubectl kustomize deploy/k8s/<dir>`, parsed: every object it renders, in its order. */
export async function render(dir: string): Promise<K8sObject[]> {
  const bin = kubectl();
  if (!bin) throw new Error("kubectl is not on PATH: the manifests are rendered with `kubectl kustomize`");
  const proc = Bun.spawn([bin, "kustomize", join(K8S_DIR, dir)], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`kubectl kustomize ${dir} exited with ${code}: ${err.trim()}`);
  const parsed = Bun.YAML.parse(out) as K8sObject | K8sObject[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

const MODELS: Record<string, { validate(): void } & (new (data: never) => { validate(): void })> = {
  "v1/ConfigMap": ConfigMap as never,
  "v1/Service": Service as never,
  "apps/v1/Deployment": Deployment as never,
  "apps/v1/StatefulSet": StatefulSet as never,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget as never,
};

/** Why `object` does not match its Kubernetes schema, or null when it does. */
export function schemaError(object: K8sObject): string | null {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) return `no schema here for ${object.apiVersion} ${object.kind} (add its kubernetes-models class)`;
  try {
    new Model(object as never).validate();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export const byKind = (objects: readonly K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

export function named(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} named ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`)}`);
  return found;
}

/** Does every key=value of `selector` appear in `labels`? */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** The workloads (Deployments, StatefulSets) whose pods a selector picks. */
export function workloadsSelected(objects: readonly K8sObject[], selector: Record<string, string> | undefined) {
  return objects.filter(
    (o) => (o.kind === "Deployment" || o.kind === "StatefulSet") && selects(selector, o.spec.template.metadata?.labels),
  );
}

/** A container's environment as its pod would see it: envFrom ConfigMaps, then env. */
export function containerEnv(objects: readonly K8sObject[], container: Yaml): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, named(objects, "ConfigMap", from.configMapRef.name).data);
  }
  for (const e of container.env ?? []) if (typeof e.value === "string") env[e.name] = e.value;
  return env;
}

/** The container port a probe or Service names: a number as is, a name through the container's ports. */
export function containerPort(container: Yaml, port: number | string): number | undefined {
  if (typeof port === "number") return port;
  return container.ports?.find((p: { name?: string }) => p.name === port)?.containerPort;
}
