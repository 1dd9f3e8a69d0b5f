import { expect, test } from "bun:test";
import { nginxConfig } from "./nginx.ts";

const config = nginxConfig({
  port: 6200,
  workers: 1,
  dir: "/tmp/bench-x/nginx-1w",
  keepalive: 64,
  servers: [
    { port: 5001, weight: 1 },
    { port: 5002, weight: 2 },
    { port: 5003, weight: 3 },
  ],
});

test("the same analyzers and weights, passive health (max_fails/fail_timeout) and keep-alive upstream connections", () => {
  expect(config).toContain("worker_processes 1;");
  expect(config).toContain("listen 127.0.0.1:6200;");
  expect(config).toContain("server 127.0.0.1:5001 weight=1 max_fails=1 fail_timeout=1s;");
  expect(config).toContain("server 127.0.0.1:5002 weight=2 max_fails=1 fail_timeout=1s;");
  expect(config).toContain("server 127.0.0.1:5003 weight=3 max_fails=1 fail_timeout=1s;");
  expect(config).toContain("keepalive 64;");
  expect(config).toContain("proxy_http_version 1.1;");
  expect(config).toContain('proxy_set_header Connection "";');
  expect(config).toContain("proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;");
  expect(config).toContain("proxy_next_upstream_tries 3;");
});

test("tls: a second listener terminating TLS in the same server block", () => {
  const withTls = nginxConfig({
    port: 6200,
    workers: 1,
    dir: "/tmp/n",
    keepalive: 64,
    tls: { port: 6201, cert: "/s.crt", key: "/s.key" },
    servers: [{ port: 5001, weight: 1 }],
  });
  expect(withTls).toContain("listen 127.0.0.1:6200;\n    listen 127.0.0.1:6201 ssl;");
  expect(withTls).toContain("ssl_certificate /s.crt;");
  expect(withTls).toContain("ssl_certificate_key /s.key;");
  expect(config).not.toContain("ssl");
});

test("everything nginx writes stays in its own directory", () => {
  expect(config).not.toContain("daemon");
  for (const line of config.split("\n").filter((l) => /(_path|^pid) /.test(l.trim()))) {
    expect(line).toContain("/tmp/bench-x/nginx-1w/");
  }
  expect(config).toContain("error_log stderr");
});
