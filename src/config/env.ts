// Settings from environment variables, validated with zod, for every program. A bad value stops
// startup with one line naming the variable, the value received and what is allowed (ConfigError).

import { z } from "zod";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export type Env = Record<string, string | undefined>;

export const MIB = 1024 * 1024;

/** A whole number from the environment; `allowed` is what the error message promises. */
export function wholeNumber(fallback: number, min: number, max: number) {
  return z
    .string()
    .trim()
    .default(String(fallback))
    .refine((s) => /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max, {
      message: `must be a whole number from ${min} to ${max}`,
    })
    .transform(Number);
}

export function decimal(fallback: number, min: number, max: number) {
  return z
    .string()
    .trim()
    .default(String(fallback))
    .refine((s) => s !== "" && Number.isFinite(Number(s)) && Number(s) >= min && Number(s) <= max, {
      message: `must be a number from ${min} to ${max}`,
    })
    .transform(Number);
}

export const host = z.string().trim().min(1, { message: "must be a host name or address" }).default("0.0.0.0");

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

export function parseEnv<S extends z.ZodObject>(schema: S, env: Env): z.infer<S> {
  // An empty variable means "not set", as in most shells' `VAR= cmd` idiom.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0]);
  throw new ConfigError(`${name} ${issue.message}, got ${JSON.stringify(env[name])}`);
}
