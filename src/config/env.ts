// Settings from environment variables, validated with zod, for every program. Each program
// describes every setting once (a Setting: variable, schema with default and bounds, doc line); the
// parser, the config type and the tables in docs/configuration.md all come from that description.
// A bad value stops startup with one line naming the variable, the value received and what is
// allowed (ConfigError).

import { readFileSync } from "node:fs";
import { z } from "zod";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export type Env = Record<string, string | undefined>;

export const MIB = 1024 * 1024;

/** One setting: the variable, how its text is parsed (default and bounds included) and its doc line. */
export type Setting = {
  env: string;
  /** Parses the variable's text, or undefined when it is unset. */
  schema: z.ZodType<unknown, string | undefined>;
  /** One line for the docs table: what the setting does. */
  doc: string;
  /** What the docs show as the default when the program, not the schema, supplies it. */
  shownDefault?: string;
};

/** A program's settings, keyed by the config field each one becomes. */
export type Settings = Record<string, Setting>;

type SettingsShape<S extends Settings> = { [K in keyof S]: S[K]["schema"] };
export type SettingValues<S extends Settings> = z.output<z.ZodObject<SettingsShape<S>>>;

/** What a schema accepts, in the words of its error message; the docs table shows it too. */
export const allowedValues = z.registry<{ allowed: string }>();

/** A whole number from the environment; `allowed` is what the error message promises. */
export function wholeNumber(fallback: number, min: number, max: number) {
  const allowed = `whole number from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .default(String(fallback))
    .refine((s) => /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max, { message: `must be a ${allowed}` })
    .transform(Number)
    .register(allowedValues, { allowed });
}

/** One of a few words, case-insensitive. */
export function oneOf<const T extends string>(values: readonly T[], fallback: T) {
  const allowed = values.join(" or ");
  return z
    .string()
    .trim()
    .toLowerCase()
    .default(fallback)
    .refine((s) => (values as readonly string[]).includes(s), { message: `must be ${allowed}` })
    .transform((s) => s as T)
    .register(allowedValues, { allowed });
}

export function decimal(fallback: number, min: number, max: number) {
  const allowed = `number from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .default(String(fallback))
    .refine((s) => s !== "" && Number.isFinite(Number(s)) && Number(s) >= min && Number(s) <= max, {
      message: `must be a ${allowed}`,
    })
    .transform(Number)
    .register(allowedValues, { allowed });
}

/** true or false (also 1/0, yes/no, on/off), case-insensitive: `z.stringbool()`, since `z.coerce.boolean()` reads "false" as true. */
export function flag(fallback: boolean) {
  const allowed = "true or false";
  return z
    .stringbool({ error: `must be ${allowed}` })
    .default(fallback)
    .register(allowedValues, { allowed });
}

/** Optional text that must match `pattern`; `allowed` names what matches, for the error and the docs. */
export function matching(pattern: RegExp, allowed: string) {
  return z
    .string()
    .trim()
    .regex(pattern, { message: `must be a ${allowed}` })
    .optional()
    .register(allowedValues, { allowed });
}

/** Optional text the schema takes as it is; `allowed` tells the docs what it should hold (checked later, if at all). */
export function text(allowed: string) {
  return z.string().optional().register(allowedValues, { allowed });
}

/**
 * A PEM file (certificate, key or CA bundle) read at startup: a path that does not exist, cannot be
 * read or holds no PEM block is a config error naming the variable, not a TLS failure later.
 */
export function pemFile() {
  const allowed = "path to a PEM file";
  return z
    .string()
    .trim()
    .optional()
    .transform((path, ctx) => {
      if (!path) return undefined;
      let content: string;
      try {
        content = readFileSync(path, "utf8");
      } catch (error) {
        ctx.addIssue({
          code: "custom",
          message: `must be a readable PEM file (${(error as NodeJS.ErrnoException).code ?? error})`,
        });
        return z.NEVER;
      }
      if (!content.includes("-----BEGIN ")) {
        ctx.addIssue({ code: "custom", message: "must be a PEM file (no -----BEGIN line in it)" });
        return z.NEVER;
      }
      return path;
    })
    .register(allowedValues, { allowed });
}

export function host() {
  const allowed = "host name or address";
  return z
    .string()
    .trim()
    .min(1, { message: `must be a ${allowed}` })
    .default("0.0.0.0")
    .register(allowedValues, { allowed });
}

/** For entrypoints: the config from process.env, or one line on stderr and exit 1. */
export function loadOrExit<T>(program: string, load: (env: Env) => T): T {
  try {
    return load(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${program}: ${error.message}`);
    process.exit(1);
  }
}

/** The values of `settings` read from `env`, keyed by field; the first bad one throws a ConfigError. */
export function parseSettings<S extends Settings>(settings: S, env: Env): SettingValues<S> {
  const shape = Object.fromEntries(Object.entries(settings).map(([field, s]) => [field, s.schema])) as SettingsShape<S>;
  // An empty variable means "not set", as in most shells' `VAR= cmd` idiom.
  const input = Object.fromEntries(
    Object.entries(settings).map(([field, s]) => [field, env[s.env] === "" ? undefined : env[s.env]]),
  );
  const result = z.object(shape).safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = settings[String(issue.path[0])]!.env;
  throw new ConfigError(`${variable} ${issue.message}, got ${JSON.stringify(env[variable])}`);
}

/** The markdown table of `settings` for docs/configuration.md: variable, default, allowed values, meaning. */
export function settingsTable(settings: Settings): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const code = (text: string) => `\`${text}\``;
  const rows = Object.values(settings).map((s) => {
    const fallback = s.schema.safeParse(undefined);
    const shown =
      s.shownDefault ?? (fallback.success && fallback.data !== undefined ? String(fallback.data) : undefined);
    const allowed = allowedValues.get(s.schema)?.allowed ?? "";
    return `| ${code(s.env)} | ${shown === undefined ? "unset" : code(shown)} | ${cell(allowed)} | ${cell(s.doc)} |`;
  });
  return ["| variable | default | allowed | meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
