// Starts a Sluice process (node <script> …) with its stderr in a log file and waits for its
// SLUICE_READY line; fails with the log's tail when it exits or stays silent instead.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createInterface } from 'node:readline';
import { parseReadyLine, type ReadyInfo } from '../../common/ready-line.ts';

export interface ReadyProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly ready: ReadyInfo;
  readonly logFile: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
}

export interface SpawnReadyOptions {
  name: string;
  script: string;
  args: readonly string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export function tailOf(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Spawns the process and resolves once it is ready; one that is not ready in time is killed. */
export async function spawnReady(opts: SpawnReadyOptions): Promise<ReadyProcess> {
  const { name, logFile } = opts;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [opts.script, ...opts.args], { stdio: ['ignore', 'pipe', fd], env: opts.env ?? process.env });
  fs.closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<ReadyInfo>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Of no use to the caller, who never gets a handle to stop it.
      child.kill('SIGKILL');
      reject(new Error(`${name} printed no READY line within ${timeoutMs / 1000} s; log ${logFile}:\n${tailOf(logFile)}`));
    }, timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const info = parseReadyLine(line);
      if (info) {
        clearTimeout(timer);
        resolve(info);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before it was ready; log ${logFile}:\n${tailOf(logFile)}`));
    });
  });
  return { name, child, ready, logFile, exited };
}
