import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import {
  allowedValues,
  ConfigError,
  decimal,
  type Env,
  host,
  loadOrExit,
  matching,
  parseSettings,
  pemFile,
  type Settings,
  settingsTable,
  text,
  wholeNumber,
} from "./env.ts";

// A small program's settings, one of each kind, in the order a docs table would list them.
const settings = {
  port: { env: "T_PORT", schema: wholeNumber(8080, 0, 65535), doc: "port to listen on" },
  ratio: { env: "T_RATIO", schema: decimal(0.5, 0, 1), doc: "share of | pipes | in a cell" },
  bind: { env: "T_HOST", schema: host(), doc: "address to listen on" },
  name: { env: "T_NAME", schema: matching(/^[a-z]+$/, "lower-case word"), doc: "a name" },
  token: { env: "T_TOKEN", schema: text("any text"), doc: "a secret", shownDefault: "<generated>" },
} satisfies Settings;

const parse = (env: Env) => parseSettings(settings, env);

/** The ConfigError message parsing `env` throws. */
function refusal(env: Env): string {
  try {
    parse(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe("parseSettings", () => {
  test("gives each setting its default when its variable is unset, and ignores other variables", () => {
    const values: { port: number; ratio: number; bind: string; name?: string; token?: string } = parse({
      PATH: "/bin",
    });
    expect(values).toEqual({ port: 8080, ratio: 0.5, bind: "0.0.0.0", name: undefined, token: undefined });
  });

  test("takes an empty variable as unset, as in a shell's `VAR= cmd`", () => {
    expect(parse({ T_PORT: "", T_RATIO: "", T_HOST: "", T_NAME: "", T_TOKEN: "" })).toEqual(parse({}));
  });

  test("reads each variable into its field, trimming numbers and names but not free text", () => {
    expect(parse({ T_PORT: " 0 ", T_RATIO: "1", T_HOST: " 127.0.0.1 ", T_NAME: " abc ", T_TOKEN: " s3cret " })).toEqual(
      { port: 0, ratio: 1, bind: "127.0.0.1", name: "abc", token: " s3cret " },
    );
  });

  test.each([
    ["T_PORT", "65536", 'T_PORT must be a whole number from 0 to 65535, got "65536"'],
    ["T_PORT", "-1", 'T_PORT must be a whole number from 0 to 65535, got "-1"'],
    ["T_PORT", "80.5", 'T_PORT must be a whole number from 0 to 65535, got "80.5"'],
    ["T_PORT", "0x50", 'T_PORT must be a whole number from 0 to 65535, got "0x50"'],
    ["T_PORT", "8e3", 'T_PORT must be a whole number from 0 to 65535, got "8e3"'],
    ["T_PORT", "lots", 'T_PORT must be a whole number from 0 to 65535, got "lots"'],
    ["T_PORT", " ", 'T_PORT must be a whole number from 0 to 65535, got " "'],
    ["T_RATIO", "1.01", 'T_RATIO must be a number from 0 to 1, got "1.01"'],
    ["T_RATIO", "-0.1", 'T_RATIO must be a number from 0 to 1, got "-0.1"'],
    ["T_RATIO", "half", 'T_RATIO must be a number from 0 to 1, got "half"'],
    ["T_RATIO", "NaN", 'T_RATIO must be a number from 0 to 1, got "NaN"'],
    ["T_RATIO", "Infinity", 'T_RATIO must be a number from 0 to 1, got "Infinity"'],
    ["T_RATIO", "  ", 'T_RATIO must be a number from 0 to 1, got "  "'],
    ["T_HOST", "  ", 'T_HOST must be a host name or address, got "  "'],
    ["T_NAME", "Abc", 'T_NAME must be a lower-case word, got "Abc"'],
    ["T_NAME", "a\nb", 'T_NAME must be a lower-case word, got "a\\nb"'],
  ])("refuses %s=%p in one line naming the variable, the value and what is allowed", (variable, value, message) => {
    const got = refusal({ [variable]: value });
    expect(got).toBe(message);
    expect(got).not.toContain("\n");
  });

  test.each([
    ["0", 0],
    ["65535", 65535],
    ["007", 7],
  ])("takes %p as a whole number at or within the bounds", (value, port) => {
    expect(parse({ T_PORT: value }).port).toBe(port);
  });

  test.each([
    ["0", 0],
    [".25", 0.25],
    ["1e-1", 0.1],
  ])("takes %p as a decimal", (value, ratio) => {
    expect(parse({ T_RATIO: value }).ratio).toBe(ratio);
  });

  test("reports the first bad variable in the order the settings are described", () => {
    expect(refusal({ T_NAME: "X", T_PORT: "x", T_RATIO: "2" })).toStartWith("T_PORT ");
    expect(refusal({ T_NAME: "X", T_RATIO: "2" })).toStartWith("T_RATIO ");
  });

  test("throws a ConfigError, which the entrypoints tell from a bug", () => {
    let error: unknown;
    try {
      parse({ T_PORT: "x" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).name).toBe("ConfigError");
  });
});

describe("loadOrExit", () => {
  // A bad config's exit (code 1, one line on stderr) is tested end-to-end on the real entrypoints:
  // test/distributor.test.ts, "startup".
  test("hands the loader this process's environment and returns what it returns", () => {
    expect(loadOrExit("prog", (env) => env === process.env && "loaded")).toBe("loaded");
  });

  test("lets an error other than a ConfigError through, since it is a bug and not a bad setting", () => {
    expect(() =>
      loadOrExit("prog", () => {
        throw new TypeError("a bug");
      }),
    ).toThrow(new TypeError("a bug"));
  });
});

describe("settingsTable", () => {
  const table = settingsTable(settings).split("\n");

  test("has a header and one row per setting, in the order they are described", () => {
    expect(table.slice(0, 2)).toEqual(["| variable | default | allowed | meaning |", "| --- | --- | --- | --- |"]);
    expect(table.slice(2).map((row) => row.split(" | ")[0])).toEqual(
      ["T_PORT", "T_RATIO", "T_HOST", "T_NAME", "T_TOKEN"].map((v) => `| \`${v}\``),
    );
  });

  test.each([
    [
      "the default its schema supplies and its bounds",
      "T_PORT",
      "| `T_PORT` | `8080` | whole number from 0 to 65535 | port to listen on |",
    ],
    [
      "pipes in its text escaped",
      "T_RATIO",
      "| `T_RATIO` | `0.5` | number from 0 to 1 | share of \\| pipes \\| in a cell |",
    ],
    ["the host default", "T_HOST", "| `T_HOST` | `0.0.0.0` | host name or address | address to listen on |"],
    ["unset when it has no default", "T_NAME", "| `T_NAME` | unset | lower-case word | a name |"],
    ["the default the program supplies", "T_TOKEN", "| `T_TOKEN` | `<generated>` | any text | a secret |"],
  ])("shows a setting with %s", (_, variable, row) => {
    expect(table.find((r) => r.startsWith(`| \`${variable}\``))).toBe(row);
  });

  test("leaves the allowed cell empty for a schema that does not say what it allows", () => {
    const plain = { x: { env: "X", schema: z.string().optional(), doc: "x" } } satisfies Settings;
    expect(allowedValues.get(plain.x.schema)).toBeUndefined();
    expect(settingsTable(plain).split("\n")[2]).toBe("| `X` | unset |  | x |");
  });
});

describe("pemFile", () => {
  const pemSettings = { cert: { env: "T_CERT", schema: pemFile(), doc: "a certificate" } } satisfies Settings;
  const dir = mkdtempSync(join(tmpdir(), "pem-"));
  const pem = join(dir, "a.pem");
  writeFileSync(pem, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  const notPem = join(dir, "a.txt");
  writeFileSync(notPem, "hello");
  const refused = (value: string) => {
    try {
      parseSettings(pemSettings, { T_CERT: value });
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("expected a ConfigError");
  };

  test("a readable PEM file is its path; unset is undefined", () => {
    expect(parseSettings(pemSettings, { T_CERT: pem }).cert).toBe(pem);
    expect(parseSettings(pemSettings, {}).cert).toBeUndefined();
  });
  test("a missing file or one without a PEM block stops startup naming the variable", () => {
    expect(refused(join(dir, "missing.pem"))).toStartWith("T_CERT must be a readable PEM file (ENOENT), got");
    expect(refused(notPem)).toStartWith("T_CERT must be a PEM file (no -----BEGIN line in it), got");
  });
});
