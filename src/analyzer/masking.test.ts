import { describe, expect, test } from "bun:test";
import { headerLength, maskedTokens } from "./masking.ts";

const masked = (line: string) => maskedTokens(line).join(" ");
const message = (line: string) => {
  const t = maskedTokens(line);
  return t.slice(headerLength(t)).join(" ");
};

describe("maskedTokens", () => {
  test.each([
    [
      "numbers and ids with digits",
      "PacketResponder 1 for block blk_-6952295868487656571",
      "PacketResponder <*> for block <*>",
    ],
    ["an IP with its port, and a trailing full stop", "from 10.0.0.1:50010.", "from <*>."],
    ["sizes and durations with their unit", "sent 1190 bytes (1.16 KB) in 12ms", "sent <*> (<*>) in <*>"],
    ["names with a small version stay", "ssh2 over utf8 with sha256", "ssh2 over utf8 with sha256"],
    ["paths and dotted names", "open /etc/app/conf for org.example.Main", "open <*> for <*>"],
    ["key=value keeps its key", "uid=0 euid=0 tty=ssh", "uid=<*> euid=<*> tty=ssh"],
    ["empty brackets are an empty value", "connection from 1.2.3.4 () at x", "connection from <*> (<*>) at x"],
    ["a date over several tokens is one mask", "at Fri Jun 17 07:07:00 2005 done", "at <*> done"],
    ["whitespace of any kind splits", "\t a  b\n", "a b"],
  ])("%s", (_name, line, expected) => {
    expect(masked(line)).toBe(expected);
  });

  test("a month name alone is a word", () => {
    expect(masked("May I come in")).toBe("May I come in");
  });

  test("a 1 MB line costs one scan", () => {
    const line = "a:".repeat(1 << 19);
    expect(maskedTokens(line)).toEqual([line]);
  });
});

describe("headerLength", () => {
  test.each([
    [
      "ISO time, level, thread, class",
      "2015-10-18 18:01:47,978 INFO [main] org.apache.A: Created MRAppMaster",
      "Created MRAppMaster",
    ],
    ["syslog with a host and a program", "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user x", "Invalid user x"],
    ["logcat", "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs", "printFreezingDisplayLogs"],
    ["a bracketed field with spaces", "2015-10-18 INFO [RMCommunicator Allocator] Scheduling x", "Scheduling x"],
    [
      "a plain message",
      "PacketResponder 1 for block blk_1 terminating",
      "PacketResponder <*> for block <*> terminating",
    ],
    ["a message starting with name:", "usbcore: registered new driver hub", "usbcore: registered new driver hub"],
  ])("%s", (_name, line, expected) => {
    expect(message(line)).toBe(expected);
  });

  test("leaves at least one token", () => {
    expect(headerLength(["<*>", "INFO"])).toBe(1);
    expect(headerLength([])).toBe(0);
  });
});
