/** A one-line progress bar on a TTY (redrawn in place), or a line every 10 % otherwise. */
export class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #out: NodeJS.WriteStream;
  #lastDraw = 0;
  #lastDecile = -1;
  readonly #start = performance.now();

  constructor(label: string, total: number, out: NodeJS.WriteStream = process.stdout) {
    this.#label = label;
    this.#total = total;
    this.#out = out;
  }

  update(done: number, force = false): void {
    const now = performance.now();
    if (this.#out.isTTY) {
      if (!force && now - this.#lastDraw < 80) return;
      this.#lastDraw = now;
      const width = 30;
      const frac = Math.min(1, done / this.#total);
      const filled = Math.round(frac * width);
      const rate = done / Math.max(0.001, (now - this.#start) / 1000);
      this.#out.write(
        `\r${this.#label.padEnd(9)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(done).padStart(String(this.#total).length)}/${this.#total}  ${Math.round(rate).toLocaleString("en")} msg/s `,
      );
    } else {
      const decile = Math.floor((done / this.#total) * 10);
      if (decile !== this.#lastDecile || force) {
        this.#lastDecile = decile;
        this.#out.write(`${this.#label} ${done}/${this.#total}\n`);
      }
    }
  }

  finish(done: number): void {
    this.update(done, true);
    if (this.#out.isTTY) this.#out.write("\n");
  }
}

/** Formats rows as an aligned text table. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  const sep = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join("\n");
}

/** The p-th percentile (0–100) of sorted numbers. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
