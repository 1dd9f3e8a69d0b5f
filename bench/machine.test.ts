import { expect, test } from "bun:test";
import { cpuModel } from "./machine.ts";

test.each([
  [
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n",
    "AMD EPYC 7B13",
  ],
  ["processor\t: 0\nHardware\t: BCM2835\n", "BCM2835"],
  ["", "unknown"],
])("the CPU model in /proc/cpuinfo text %#", (cpuinfo, model) => {
  expect(cpuModel(cpuinfo)).toBe(model);
});
