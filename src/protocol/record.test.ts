import { describe, expect, test } from "bun:test";
import { messageOf, recordFromObject } from "./record.ts";

describe("recordFromObject", () => {
  test.each([
    ["a lone log is a plain line", { log: "a" }, "a"],
    [
      "the other fields travel beside the message",
      { message: "a", level: "WARN", n: 1 },
      { message: "a", fields: { level: "WARN", n: 1 } },
    ],
    [
      "the first message key wins; later ones are fields",
      { msg: "m", log: "l" },
      { message: "l", fields: { msg: "m" } },
    ],
    ["a key whose value is not a string is passed over", { log: 5, body: "b" }, { message: "b", fields: { log: 5 } }],
    [
      "journald's MESSAGE and GELF's short_message count",
      { MESSAGE: "j", PRIORITY: "3" },
      { message: "j", fields: { PRIORITY: "3" } },
    ],
    ["an empty string is a message", { short_message: "" }, ""],
  ])("%s", (_, object, record) => {
    expect(recordFromObject(object)).toEqual(record);
  });

  test("an object without a string under any message key has no record", () => {
    expect(recordFromObject({ level: "INFO", message: null, log: ["a"] })).toBeUndefined();
  });

  test("a field named __proto__ (an own key after JSON.parse) stays a field, not the fields' prototype", () => {
    const record = recordFromObject(JSON.parse('{"log": "a", "__proto__": {"polluted": true}}'));
    if (typeof record !== "object") throw new Error(`expected a record with fields, got ${JSON.stringify(record)}`);
    expect(Object.keys(record.fields)).toEqual(["__proto__"]);
    expect((record.fields as { polluted?: unknown }).polluted).toBeUndefined();
    expect(JSON.stringify(record)).toBe('{"message":"a","fields":{"__proto__":{"polluted":true}}}');
  });
});

test("messageOf reads a plain line and a record alike", () => {
  expect(messageOf("a")).toBe("a");
  expect(messageOf({ message: "b", fields: {} })).toBe("b");
});
