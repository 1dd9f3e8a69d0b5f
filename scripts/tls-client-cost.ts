// CPU the distributor's HTTP client spends per forwarded request over TLS and over plain HTTP
// (issue #15): `bun run scripts/tls-client-cost.ts [requests]`. A stand-in analyzer runs in a child
// process (its CPU is not counted) and answers NDJSON like an analyzer; here, 16 concurrent loops
// post batches through one HttpClient per origin, kept-alive, and process.cpuUsage() is divided by
// the requests. Bounded: a fixed number of requests per case, each with a 5 s timeout.

import { readFileSync } from "node:fs";
import { HttpClient } from "../src/distributor/httpclient/client.ts";
import { makeCerts } from "../testkit/certs.ts";
import { spawnChild } from "../testkit/procs.ts";

const CONCURRENCY = 16;
const HEADERS = { contentType: "application/json", accept: "application/x-ndjson" };

if (process.argv[2] === "serve") {
  // The stand-in analyzer: one line of id, then one small result per log.
  const [, , , cert, key] = process.argv;
  const answer = async (req: Request) => {
    const { logs } = (await req.json()) as { logs: string[] };
    const lines = ['"stub"', ...logs.map((l) => JSON.stringify({ length: l.length }))];
    return new Response(`${lines.join("\n")}\n`, { headers: { "content-type": "application/x-ndjson" } });
  };
  const plain = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: answer });
  const tls = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    tls: { cert: readFileSync(cert!, "utf8"), key: readFileSync(key!, "utf8") },
    fetch: answer,
  });
  console.log(`ports ${plain.port} ${tls.port}`);
} else {
  const requests = Number(process.argv[2] ?? 20_000);
  if (!Number.isInteger(requests) || requests < 100 || requests > 1_000_000)
    throw new RangeError(`requests must be a whole number from 100 to 1000000, got ${process.argv[2]}`);
  const certs = makeCerts();
  const server = spawnChild("stub analyzer", [
    process.execPath,
    import.meta.path,
    "serve",
    certs.server.cert,
    certs.server.key,
  ]);
  try {
    const [, plainPort, tlsPort] = await server.waitFor(/ports (\d+) (\d+)/);
    const ca = readFileSync(certs.ca.cert, "utf8");
    const rows: string[] = [];
    for (const lines of [1, 100]) {
      const body = JSON.stringify({
        logs: Array.from({ length: lines }, (_, i) => `2026-11-30T12:00:00Z INFO request ${i} served in 12 ms`),
      });
      for (const [name, origin] of [
        ["http", `http://127.0.0.1:${plainPort}`],
        ["https", `https://127.0.0.1:${tlsPort}`],
      ] as const) {
        const client = new HttpClient(origin, { tls: { ca } });
        await run(client, body, 500); // warm-up: connections open, JIT warm
        const cpu = process.cpuUsage();
        const started = performance.now();
        await run(client, body, requests);
        const used = process.cpuUsage(cpu);
        const seconds = (performance.now() - started) / 1000;
        const us = (used.user + used.system) / requests;
        rows.push(
          `${String(lines).padStart(3)}-line batches  ${name.padEnd(5)}  ${us.toFixed(1).padStart(6)} µs CPU/request  ` +
            `(${(used.user / requests).toFixed(1)} user + ${(used.system / requests).toFixed(1)} sys)  ` +
            `${Math.round(requests / seconds)} requests/s, ${client.idleCount} connections`,
        );
        client.close();
      }
    }
    console.log(`${requests} requests per case, ${CONCURRENCY} concurrent, one client per origin, kept-alive:`);
    for (const row of rows) console.log(row);
  } finally {
    await server.stop();
  }
}

async function run(client: HttpClient, body: string, requests: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests) {
        next++;
        const res = await client.post("/analyze", body, HEADERS, 5000);
        if (res.status !== 200) throw new Error(`answered ${res.status}: ${res.body.slice(0, 200)}`);
      }
    }),
  );
}
