// Preloaded by bun test (bunfig.toml). End-to-end tests start real processes on 2 shared, noisy
// cores: their bound is a guard against hangs, not a speed claim. (bunfig's [test] timeout key is
// not honoured by this Bun, so the default is raised here.)
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(60_000);
