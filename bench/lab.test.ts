import { expect, test } from "bun:test";
import { missingTargets } from "./lab.ts";

test("targets whose program is not on PATH are skipped, each with how to install it", () => {
  const onPath = (binary: string) => binary === "nginx";
  expect(missingTargets(["distributor", "haproxy", "nginx", "haproxy-2t"], onPath)).toEqual([
    { target: "haproxy", reason: "haproxy is not on PATH", install: "apt-get install -y haproxy" },
    { target: "haproxy-2t", reason: "haproxy is not on PATH", install: "apt-get install -y haproxy" },
  ]);
  expect(missingTargets(["distributor"], () => false)).toEqual([]);
});
