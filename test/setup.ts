// Preloaded by bun test (bunfig.toml). End-to-end tests start real processes on 2 shared, noisy
// cores: their bound is a guard against hangs, not a speed claim. Bun 1.4.5 honours neither
// bunfig's [test] timeout nor a setDefaultTimeout here beyond the first test file it runs, so each
// file that starts processes calls setDefaultTimeout(60_000) itself; this one covers the first.
import { setDefaultTimeout } from "bun:test";
import fc from "fast-check";

setDefaultTimeout(60_000);

// Property tests draw from one fixed seed, so that a run repeats exactly (CI passes or fails the
// same way every time); FC_SEED=<n> bun test explores other inputs.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261130) });
