import { expect, test } from "bun:test";
import { chooseGenerator, type Generator, GeneratorMissingError } from "./generator.ts";

const only =
  (...names: string[]) =>
  (g: Generator) =>
    names.includes(g.name);

test("the first available of oha, wrk, hey, load_tester", () => {
  expect(chooseGenerator(undefined, only("hey", "wrk", "load_tester", "oha")).name).toBe("oha");
  expect(chooseGenerator(undefined, only("hey", "wrk", "load_tester")).name).toBe("wrk");
  expect(chooseGenerator(undefined, only("hey", "load_tester")).name).toBe("hey");
  expect(chooseGenerator(undefined, only("load_tester")).name).toBe("load_tester");
});

test("a forced generator is used when available, and named with how to install it when not", () => {
  expect(chooseGenerator("load_tester", only("wrk", "load_tester")).name).toBe("load_tester");
  expect(() => chooseGenerator("oha", only("wrk"))).toThrow(GeneratorMissingError);
  expect(() => chooseGenerator("oha", only("wrk"))).toThrow("--generator oha: not found (cargo install oha");
});

test("nothing available says what to install", () => {
  expect(() => chooseGenerator(undefined, only())).toThrow("install oha, wrk or hey");
});
