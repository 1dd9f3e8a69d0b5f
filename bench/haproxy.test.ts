import { describe, expect, test } from "bun:test";
import { haproxyConfig, serverStatuses } from "./haproxy.ts";

const servers = [
  { id: "a1", port: 5001, weight: 1 },
  { id: "a2", port: 5002, weight: 2 },
  { id: "a3", port: 5003, weight: 3 },
];

describe("haproxyConfig", () => {
  const config = haproxyConfig({ port: 6100, statsPort: 6101, threads: 1, servers });

  test("the same analyzers and weights, round robin, on 127.0.0.1 only", () => {
    expect(config).toContain("nbthread 1");
    expect(config).toContain("bind 127.0.0.1:6100");
    expect(config).toContain("bind 127.0.0.1:6101");
    expect(config).toContain("balance roundrobin");
    expect(config).toContain("server a1 127.0.0.1:5001 weight 1 check");
    expect(config).toContain("server a2 127.0.0.1:5002 weight 2 check");
    expect(config).toContain("server a3 127.0.0.1:5003 weight 3 check");
  });

  test("health checks every 100 ms on GET /health, keep-alive reuse and retries like the distributor's", () => {
    expect(config).toContain("option httpchk");
    expect(config).toContain("http-check send meth GET uri /health ver HTTP/1.1 hdr Host 127.0.0.1");
    expect(config).toContain("default-server inter 100ms rise 1 fall 2");
    expect(config).toContain("timeout check 400ms");
    expect(config).toContain("http-reuse always");
    expect(config).toContain("retries 2");
    expect(config).toContain("option redispatch 1");
  });

  test("tls: a second listener terminating TLS with the combined certificate, the plain one unchanged", () => {
    const withTls = haproxyConfig({
      port: 6100,
      statsPort: 6101,
      threads: 1,
      tls: { port: 6102, combined: "/c.pem" },
      servers,
    });
    expect(withTls).toContain("bind 127.0.0.1:6100\n");
    expect(withTls).toContain("bind 127.0.0.1:6102 ssl crt /c.pem\n");
    expect(config).not.toContain("ssl");
  });

  test("threads are a parameter", () => {
    expect(haproxyConfig({ port: 1, statsPort: 2, threads: 2, servers })).toContain("nbthread 2");
  });
});

describe("serverStatuses", () => {
  test("reads each server's status from the stats CSV, without the frontend/backend lines", () => {
    const csv = `# pxname,svname,qcur,status,weight
bench,FRONTEND,,OPEN,
analyzers,a1,0,UP,1
analyzers,a2,0,DOWN,2
analyzers,a3,0,UP,3
analyzers,BACKEND,0,UP,6
stats,FRONTEND,,OPEN,
`;
    expect(Object.fromEntries(serverStatuses(csv))).toEqual({ a1: "UP", a2: "DOWN", a3: "UP" });
  });
});
