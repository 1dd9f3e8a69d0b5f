// Everything a run needs, started once: the analyzers, each target in front of them (those whose
// program is on PATH; the others are reported as skipped with how to install them), the request
// bodies on disk and the load generator.

import { join } from "node:path";
import { makeCerts } from "../testkit/certs.ts";
import { AnalyzerCluster } from "./analyzers.ts";
import type { BenchOptions, TargetName } from "./args.ts";
import { BODY_KINDS, type BodyKind, benchBody, type RequestBody } from "./bodies.ts";
import { chooseGenerator } from "./generator.ts";
import { startHaproxy } from "./haproxy.ts";
import type { Lab } from "./measure.ts";
import { startNginx } from "./nginx.ts";
import { type BenchCert, startDistributor, type Target } from "./targets.ts";

export type Skipped = { target: TargetName; reason: string; install: string };

const PROGRAMS: Partial<Record<TargetName, { binary: string; install: string }>> = {
  haproxy: { binary: "haproxy", install: "apt-get install -y haproxy" },
  "haproxy-2t": { binary: "haproxy", install: "apt-get install -y haproxy" },
  nginx: { binary: "nginx", install: "apt-get install -y nginx" },
  "nginx-2w": { binary: "nginx", install: "apt-get install -y nginx" },
};

/** The targets of `wanted` whose program is missing, and why. */
export function missingTargets(wanted: readonly TargetName[], onPath: (binary: string) => boolean): Skipped[] {
  return wanted.flatMap((target) => {
    const program = PROGRAMS[target];
    if (!program || onPath(program.binary)) return [];
    return [{ target, reason: `${program.binary} is not on PATH`, install: program.install }];
  });
}

export async function startLab(options: BenchOptions, dir: string): Promise<{ lab: Lab; skipped: Skipped[] }> {
  const generator = chooseGenerator(options.generator);
  const skipped = missingTargets(options.targets, (binary) => Bun.which(binary) !== null);
  const analyzers = await AnalyzerCluster.start();
  // Only the tls scenario needs a certificate: one for every target, made here (testkit/certs.ts).
  const tls = options.scenarios.includes("tls") ? await benchCert(dir) : undefined;
  const targets = new Map<TargetName, Target>();
  // One at a time: each waits until it sees the analyzers healthy.
  for (const name of options.targets) {
    if (skipped.some((s) => s.target === name)) continue;
    const a = analyzers.analyzers;
    switch (name) {
      case "distributor":
      case "distributor-memory": {
        targets.set(name, await startDistributor(a, name, tls));
        break;
      }
      case "haproxy":
      case "haproxy-2t":
        targets.set(name, await startHaproxy(name, a, name === "haproxy" ? 1 : 2, dir, tls));
        break;
      case "nginx":
      case "nginx-2w":
        targets.set(name, await startNginx(name, a, name === "nginx" ? 1 : 2, options.connections, dir, tls));
        break;
    }
  }
  const bodies = new Map<BodyKind, RequestBody & { file: string }>();
  for (const kind of BODY_KINDS) {
    const body = benchBody(kind);
    const file = join(dir, `body-${kind}.${kind === "ndjson" ? "ndjson" : "json"}`);
    await Bun.write(file, body.body);
    bodies.set(kind, { ...body, file });
  }
  const lab: Lab = {
    analyzers,
    targets,
    generator,
    bodies,
    dir,
    durationMs: options.durationMs,
    connections: options.connections,
  };
  return { lab, skipped };
}

/** The server certificate from testkit's CA, and cert + key in one file for HAProxy. */
async function benchCert(dir: string): Promise<BenchCert> {
  const { server, ca } = makeCerts();
  const combined = join(dir, "server-combined.pem");
  await Bun.write(combined, (await Bun.file(server.cert).text()) + (await Bun.file(server.key).text()));
  return { cert: server.cert, key: server.key, combined, ca: ca.cert };
}
