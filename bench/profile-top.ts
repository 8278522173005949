// Prints the top of a V8 CPU profile (`node --cpu-prof` writes *.cpuprofile files): where the
// samples landed, by function (self time) and by file, so a profile can be read in a terminal
// and pasted into a report without opening Chrome DevTools.
//
//   node bench/profile-top.ts /tmp/prof/CPU.*.cpuprofile            # top 25 functions
//   node bench/profile-top.ts --top 40 --by file /tmp/prof/*.cpuprofile
//
// Self time is time spent in the function's own code, not in what it calls; "(garbage
// collector)", "(program)" (V8/native work not attributed to JS, such as syscalls and
// stream plumbing) and "(idle)" (waiting for I/O) are V8's own buckets.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values: args, positionals: files } = parseArgs({
  options: {
    top: { type: 'string', default: '25' },
    by: { type: 'string', default: 'function' },
  },
  allowPositionals: true,
  strict: true,
});

if (files.length === 0 || (args.by !== 'function' && args.by !== 'file')) {
  process.stderr.write('usage: node bench/profile-top.ts [--top N] [--by function|file] <file.cpuprofile>...\n');
  process.exit(2);
}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function shortUrl(url: string): string {
  if (url === '') return '';
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) return file.slice(nm + '/node_modules/'.length);
  return file.startsWith(ROOT) ? path.relative(ROOT, file) : file;
}

function label(frame: CallFrame, by: string): string {
  const where = shortUrl(frame.url);
  if (by === 'file') return where === '' ? frame.functionName || '(native)' : where;
  const name = frame.functionName || '(anonymous)';
  return where === '' ? name : `${name}  ${where}:${frame.lineNumber + 1}`;
}

for (const file of files) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Sample time, not hit counts: the sampling interval is not perfectly regular.
  const selfMs = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    if (node === undefined) continue;
    totalMs += ms;
    if (node.callFrame.functionName === '(idle)') idleMs += ms;
    const key = label(node.callFrame, args.by);
    selfMs.set(key, (selfMs.get(key) ?? 0) + ms);
  }
  const busyMs = totalMs - idleMs;
  process.stdout.write(`${path.basename(file)}: ${(totalMs / 1000).toFixed(1)} s sampled, ${(busyMs / 1000).toFixed(1)} s busy (${((100 * busyMs) / Math.max(totalMs, 1e-9)).toFixed(0)} %)\n`);
  process.stdout.write('  self ms   % busy  where\n');
  const rows = [...selfMs].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, Number(args.top));
  for (const [key, ms] of rows) {
    process.stdout.write(`${ms.toFixed(0).padStart(9)}  ${((100 * ms) / Math.max(busyMs, 1e-9)).toFixed(1).padStart(6)}  ${key}\n`);
  }
  process.stdout.write('\n');
}
