// How commands print. Data goes to stdout, as aligned columns for people or as JSON for
// scripts (`--output json`); diagnostics and progress go to stderr, so piping stdout never
// mixes the two.
import type { OutputFormat } from './option-parsers.ts';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
  /** Progress lines are shown only to a person watching a terminal. */
  stderrIsTty: boolean;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    stderrIsTty: Boolean(process.stderr.isTTY),
  };
}

/** What every command's action receives besides its own arguments. */
export interface CliContext {
  io: CliIo;
  bootstrapServers: string[];
  output: OutputFormat;
  /** How long one request to the cluster may take, retries included. */
  requestTimeoutMs: number;
}

export function printLine(io: CliIo, line = ''): void {
  io.stdout.write(`${line}\n`);
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function warn(io: CliIo, line: string): void {
  io.stderr.write(`${line}\n`);
}

/** Columns padded to the widest cell; the last column is left ragged. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** A one-line progress indicator on a terminal; a no-op anywhere else. */
export class Progress {
  private readonly io: CliIo;
  private shown = false;
  private last = 0;

  constructor(io: CliIo) {
    this.io = io;
  }

  update(text: string): void {
    if (!this.io.stderrIsTty) return;
    const now = Date.now();
    // Repainting more often than a few times a second costs throughput and nobody reads it.
    if (now - this.last < 200) return;
    this.last = now;
    this.io.stderr.write(`\r\x1b[2K${text}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.io.stderr.write('\r\x1b[2K');
    this.shown = false;
  }
}
