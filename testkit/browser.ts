// Where the dashboard test finds a Chromium or Chrome to drive (never a downloaded one): CHROME_PATH
// if set, else the first of the places Debian, Ubuntu and macOS install one.

import { existsSync } from "node:fs";

export const BROWSER_PATHS = [
  "/usr/bin/chromium", // Debian: apt-get install chromium
  "/usr/bin/chromium-browser", // Ubuntu before the snap, and some other distributions
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/snap/bin/chromium", // Ubuntu: the snap
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
] as const;

/** The flags the test launches it with: headless, and quiet (no updates, sync or other calls home). */
export const BROWSER_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** No browser where we looked: the message says what to install or set. */
export class BrowserMissingError extends Error {
  override name = "BrowserMissingError";
}

/** The browser's executable; throws BrowserMissingError naming the fix when there is none. */
export function findBrowser(
  env: Record<string, string | undefined> = process.env,
  exists: (path: string) => boolean = existsSync,
): string {
  const chosen = env.CHROME_PATH;
  if (chosen) {
    if (exists(chosen)) return chosen;
    throw new BrowserMissingError(
      `CHROME_PATH is ${chosen}, which does not exist: point it at a Chromium or Chrome executable, or unset it to look in ${BROWSER_PATHS.join(", ")}`,
    );
  }
  const found = BROWSER_PATHS.find((path) => exists(path));
  if (found) return found;
  throw new BrowserMissingError(
    `no Chromium or Chrome found (looked in ${BROWSER_PATHS.join(", ")}): install one (Debian/Ubuntu: \`apt-get install chromium\`; macOS: Google Chrome) or set CHROME_PATH to its executable`,
  );
}
