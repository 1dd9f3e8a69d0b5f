// Watching certificate files for a renewal, for the server's certificate (listen.ts) and the
// distributor's analyzer TLS files alike. The folders holding them are watched, not the files: a
// Kubernetes Secret mount swaps a symlinked folder, which a watch on the old file never sees.

import { watch } from "node:fs";
import { dirname } from "node:path";

/** A change is acted on once its files have been quiet this long (a renewal writes several files). */
export const WATCH_DEBOUNCE_MS = 250;

/** Calls `onChange` once the folders of `files` have been quiet WATCH_DEBOUNCE_MS after a change; close() stops. */
export function watchFiles(files: readonly string[], onChange: () => void): { close(): void } {
  let debounce: ReturnType<typeof setTimeout> | undefined;
  const watchers = [...new Set(files.map((f) => dirname(f)))].map((dir) =>
    watch(dir, () => {
      clearTimeout(debounce);
      debounce = setTimeout(onChange, WATCH_DEBOUNCE_MS);
    }),
  );
  return {
    close() {
      clearTimeout(debounce);
      for (const watcher of watchers) watcher.close();
    },
  };
}
