/** Plain-text tables and the few formats the CLI prints. */
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined ? "–" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

export function ms(value: number | undefined): string | undefined {
  return value === undefined ? undefined : value < 10 ? value.toFixed(2) : value.toFixed(0);
}

export function usd(value: number | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value === 0 ? "0" : value < 0.001 ? value.toExponential(2) : value.toFixed(4);
}

/** Like `num`, but an infinite value shows as ∞ (an unexplored model's UCB score and bonus). */
export function score(value: number | undefined, digits = 2): string | undefined {
  if (value === Number.POSITIVE_INFINITY) return "∞";
  if (value === Number.NEGATIVE_INFINITY) return "-∞";
  return num(value, digits);
}

export function num(value: number | undefined, digits = 2): string | undefined {
  return value === undefined || !Number.isFinite(value) ? undefined : value.toFixed(digits);
}

/** A progress bar on a terminal; elsewhere, one line when work starts and one when it ends. */
export function progress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): { update(done: number, total: number, detail?: string): void; done(message?: string): void } {
  const tty = stream.isTTY === true;
  let started = false;
  return {
    update(done, total, detail) {
      if (!tty) {
        if (!started) stream.write(`${label}…\n`);
        started = true;
        return;
      }
      const width = 24;
      const filled = total > 0 ? Math.round((done / total) * width) : 0;
      stream.write(
        `\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}${detail ? ` ${detail}` : ""}\u001b[K`,
      );
      started = true;
    },
    done(message) {
      if (tty && started) stream.write("\r\u001b[K");
      if (message) stream.write(`${message}\n`);
    },
  };
}
