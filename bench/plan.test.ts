import { expect, test } from "bun:test";
import { plan } from "./plan.ts";

test("every round covers every scenario and target, with the targets' order rotated each round", () => {
  const steps = plan(["single", "failover"], ["distributor", "haproxy", "nginx"], 3).map(
    (s) => `${s.round} ${s.scenario} ${s.target}`,
  );
  expect(steps).toEqual([
    "1 single distributor",
    "1 single haproxy",
    "1 single nginx",
    "1 failover distributor",
    "1 failover haproxy",
    "1 failover nginx",
    "2 single haproxy",
    "2 single nginx",
    "2 single distributor",
    "2 failover haproxy",
    "2 failover nginx",
    "2 failover distributor",
    "3 single nginx",
    "3 single distributor",
    "3 single haproxy",
    "3 failover nginx",
    "3 failover distributor",
    "3 failover haproxy",
  ]);
});

test("a bad round count fails at once, showing the value", () => {
  expect(() => plan(["single"], ["haproxy"], 0)).toThrow("rounds must be a positive integer, got 0");
});
