// ANSI colour, only where a person is looking: a TTY, and not when NO_COLOR is set (no-color.org).

export type Paint = Record<"bold" | "dim" | "red" | "green" | "yellow" | "cyan", (text: string) => string>;

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;

export function createPaint(enabled: boolean): Paint {
  const paint = {} as Paint;
  for (const [name, [open, close]] of Object.entries(CODES)) {
    paint[name as keyof Paint] = enabled ? (text) => `\x1b[${open}m${text}\x1b[${close}m` : (text) => text;
  }
  return paint;
}

export function shouldColour(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}
