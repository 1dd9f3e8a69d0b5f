// The pass/fail vocabulary of the scripts that check a deployment for real (test:compose,
// test:k8s): each check prints `ok: <what>` or stops the script with a CheckFailed saying what.

export class CheckFailed extends Error {
  override name = "CheckFailed";
}

export function check(ok: boolean, what: string): void {
  if (!ok) throw new CheckFailed(what);
  console.log(`  ok: ${what}`);
}

/** The two checks every traffic round ends with: no client saw an error, and every message sent was counted once (`delivered`). */
export function checkDelivered(traffic: { messages: number; errors: readonly string[] }, delivered: number): void {
  check(
    traffic.errors.length === 0,
    `no client errors${traffic.errors.length ? `: ${traffic.errors.slice(0, 3).join("; ")}` : ""}`,
  );
  check(
    delivered === traffic.messages,
    `every message sent was delivered and counted once (${delivered} of ${traffic.messages})`,
  );
}

/** Polls `condition` every 250 ms (a throw counts as "not yet": the service may not be up) until it holds, or fails after `timeoutMs`. */
export async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // not up yet
    }
    if (performance.now() > deadline)
      throw new CheckFailed(`timed out after ${timeoutMs / 1000} s waiting until ${what}`);
    await Bun.sleep(250);
  }
}
