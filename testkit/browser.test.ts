import { describe, expect, test } from "bun:test";
import { BROWSER_PATHS, BrowserMissingError, findBrowser } from "./browser.ts";

const only =
  (...paths: string[]) =>
  (path: string) =>
    paths.includes(path);

describe("findBrowser", () => {
  test("CHROME_PATH wins over every usual place", () => {
    expect(findBrowser({ CHROME_PATH: "/opt/chrome/chrome" }, only("/opt/chrome/chrome", "/usr/bin/chromium"))).toBe(
      "/opt/chrome/chrome",
    );
  });

  test("a CHROME_PATH that does not exist is an error naming it, not a quiet fallback", () => {
    expect(() => findBrowser({ CHROME_PATH: "/nope/chrome" }, only("/usr/bin/chromium"))).toThrow(
      "CHROME_PATH is /nope/chrome, which does not exist",
    );
  });

  test.each([...BROWSER_PATHS])("finds %s", (path) => {
    expect(findBrowser({}, only(path))).toBe(path);
  });

  test("prefers Debian's chromium when there are several", () => {
    expect(findBrowser({}, only("/snap/bin/chromium", "/usr/bin/chromium"))).toBe("/usr/bin/chromium");
  });

  test("none anywhere: one message saying what to install or set", () => {
    expect(() => findBrowser({}, only())).toThrow(BrowserMissingError);
    expect(() => findBrowser({}, only())).toThrow(/apt-get install chromium.*or set CHROME_PATH/);
  });
});
