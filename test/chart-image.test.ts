// The container image (deploy/Dockerfile, .dockerignore). Docker is not available where the tests
// run, so the Dockerfile is read rather than built — for what a build would get wrong: a base that
// is not a slim Node 22, dev dependencies in the image, a root user, and above all a production
// file the image leaves out. For that, the import graph of every entry point the chart runs is
// followed and each file checked against the Dockerfile's COPY lines and .dockerignore.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ROOT, readRepoFile } from '../charts/chart-files.ts';
import { find, renderChart } from './support/chart-testing.ts';

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Dockerfile instructions (continuations joined, comments dropped), split into stages. */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`unreadable Dockerfile line: ${line}`);
    const op = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (op === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      const image = f[1]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => args[(a ?? b)!] ?? '');
      stages.push({ from: image, name: f[2], instructions: [] });
    } else if (op === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=');
      args[k!] = v ?? '';
    } else {
      if (stages.length === 0) throw new Error(`${op} before FROM`);
      stages[stages.length - 1]!.instructions.push({ op, args: rest });
    }
  }
  return { args, stages };
}

/** .dockerignore as the builder applies it: in order, the last matching pattern wins, a match on a directory covers what is under it. */
function dockerIgnored(file: string, patterns: readonly string[]): boolean {
  let ignored = false;
  const parts = file.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/\/+$/, '');
    const re = new RegExp(
      `^${pattern
        .split(/(\*\*\/|\/\*\*|\*\*|\*|\?)/)
        .map((t) => ({ '**/': '(.*/)?', '/**': '(/.*)?', '**': '.*', '*': '[^/]*', '?': '[^/]' })[t] ?? t.replace(/[.+^${}()|[\]\\]/g, '\\$&'))
        .join('')}$`,
    );
    if (candidates.some((c) => re.test(c))) ignored = !negated;
  }
  return ignored;
}

const dockerfile = parseDockerfile(readRepoFile('deploy/Dockerfile'));
const ignorePatterns = readRepoFile('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
const finalStage = dockerfile.stages[dockerfile.stages.length - 1]!;
const pkg = JSON.parse(readRepoFile('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string>; scripts: Record<string, string> };

/** Source paths the final stage copies from the build context (not from another stage). */
const copiedFromContext = finalStage.instructions
  .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
  .flatMap((i) => {
    const words = i.args.split(/\s+/).filter((w) => !w.startsWith('--'));
    return words.slice(0, -1).map((w) => w.replace(/\/+$/, ''));
  });

function inImage(file: string): boolean {
  return copiedFromContext.some((src) => file === src || file.startsWith(`${src}/`)) && !dockerIgnored(file, ignorePatterns);
}

/** Relative files and packages a module loads at run time (`import type` is erased by Node and does not count). */
function runtimeImports(file: string): { files: string[]; packages: string[] } {
  const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const specifiers: string[] = [];
  for (const m of source.matchAll(/^\s*import\s+(type\s+)?[^;'"]*?\bfrom\s+['"]([^'"]+)['"]/gm)) if (!m[1]) specifiers.push(m[2]!);
  for (const m of source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) specifiers.push(m[1]!);
  for (const m of source.matchAll(/^\s*export\s+(type\s+)?(?:\*|\*\s+as\s+\w+|\{[^}]*\})\s+from\s+['"]([^'"]+)['"]/gm)) if (!m[1]) specifiers.push(m[2]!);
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specifiers.push(m[1]!);
  const files: string[] = [];
  const packages: string[] = [];
  for (const s of specifiers) {
    if (s.startsWith('.')) files.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), s)));
    else if (!s.startsWith('node:') && !builtinModules.includes(s)) packages.push(s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!);
  }
  return { files, packages };
}

function closure(entries: readonly string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [...entries];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    const found = runtimeImports(f);
    for (const p of found.packages) packages.add(p);
    todo.push(...found.files);
  }
  return { files, packages };
}

/** Entry points the chart's containers and the image's `sluice` command run. */
function entryPoints(): string[] {
  const objects = renderChart();
  const scripts = [find(objects, 'StatefulSet'), find(objects, 'Deployment')].map((w) => {
    const command = (w.spec.template.spec.containers[0].command as string[]).join(' ');
    return /\bnode\s+(\S+\.ts)\b/.exec(command)![1]!;
  });
  return [...scripts, pkg.scripts.sluice!.split(' ')[1]!];
}

describe('deploy/Dockerfile', () => {
  it('builds in stages from a slim Node 22 image and runs as a numeric non-root user', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const s of dockerfile.stages) expect(s.from).toMatch(/^node:22(\.\d+)*-(bookworm-|bullseye-|trixie-)?slim$/);
    const users = finalStage.instructions.filter((i) => i.op === 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.args.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    if (gid !== undefined) expect(Number(gid)).toBeGreaterThan(0);
    // Nothing runs as root after the switch, and the chart's runAsUser is that user.
    const after = finalStage.instructions.slice(finalStage.instructions.indexOf(users[0]!) + 1);
    expect(after.filter((i) => i.op === 'RUN')).toEqual([]);
    const pod = find(renderChart(), 'StatefulSet').spec.template.spec;
    expect(String(pod.securityContext.runAsUser)).toBe(uid);
  });

  it('installs production dependencies only, with npm ci from the lockfile, in a build stage', () => {
    const installs = dockerfile.stages.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN' && /\bnpm\s+(ci|install|i)\b/.test(i.args)).map((i) => ({ stage: s, run: i.args })));
    expect(installs).toHaveLength(1);
    expect(installs[0]!.run).toMatch(/\bnpm ci\b/);
    expect(installs[0]!.run).toMatch(/--omit=dev\b/);
    expect(installs[0]!.stage).not.toBe(finalStage);
    expect(installs[0]!.stage.instructions.some((i) => i.op === 'COPY' && /package-lock\.json/.test(i.args))).toBe(true);
    // The final stage takes node_modules from that stage, and copies no whole context.
    const fromStage = finalStage.instructions.filter((i) => i.op === 'COPY' && i.args.startsWith('--from'));
    expect(fromStage.map((i) => i.args)).toEqual([`--from=${installs[0]!.stage.name} /app/node_modules ./node_modules`]);
    expect(copiedFromContext).not.toContain('.');
  });

  it('runs the TypeScript entry points with a Node that strips types without a flag, as package.json does', () => {
    // Type stripping is on by default from Node 22.18; the pinned dev Node is what tests run on.
    const [major, minor] = (JSON.parse(readRepoFile('node_modules/node/package.json')) as { version: string }).version.split('.').map(Number);
    expect(major! > 22 || (major === 22 && minor! >= 18)).toBe(true);
    for (const script of [pkg.scripts.broker!, pkg.scripts.operator!, pkg.scripts.sluice!]) expect(script).toMatch(/^node [\w/.-]+\.ts\b/);
    // The build runs each entry point once (--help), so a base image whose Node cannot run them fails the build.
    const runs = finalStage.instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join(' ');
    for (const entry of entryPoints().slice(0, 2)) expect(runs).toContain(`node ${entry} --help`);
    expect(runs).toContain('sluice --help');
  });

  it('copies every file the broker, the operator and the CLI load, and no test code', () => {
    const { files, packages } = closure(entryPoints());
    expect(files.size).toBeGreaterThan(50);
    expect([...files].filter((f) => !inImage(f))).toEqual([]);
    // The .proto files are read at run time (common/proto.ts).
    expect(inImage('proto/sluice/v1/log.proto')).toBe(true);
    // Packages come from `npm ci --omit=dev`: each must be a production dependency.
    expect([...packages].filter((p) => !(p in pkg.dependencies))).toEqual([]);
    for (const testFile of ['broker/broker.test.ts', 'operator/kubernetes/operator-harness.ts', 'broker/test-support/broker-harness.ts', 'client/cli/test-fixtures/cluster-owner.ts', 'test/produce-consume.test.ts', 'node_modules/yaml/package.json', '.git/HEAD']) {
      expect(inImage(testFile), testFile).toBe(false);
    }
  });

  it('exposes the ports the chart uses', () => {
    const exposed = finalStage.instructions.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map(Number);
    const objects = renderChart();
    for (const w of [find(objects, 'StatefulSet'), find(objects, 'Deployment')]) {
      for (const p of w.spec.template.spec.containers[0].ports) expect(exposed, `${w.kind} ${p.name}`).toContain(p.containerPort);
    }
  });
});

describe('the .dockerignore reading used above', () => {
  it('follows the builder: last match wins, directories cover their contents, ** spans directories', () => {
    const patterns = ['*', '!src/', '**/*.test.ts', 'src/private', '!src/private/keep.ts'];
    expect(dockerIgnored('README.md', patterns)).toBe(true);
    expect(dockerIgnored('src/a/b.ts', patterns)).toBe(false);
    expect(dockerIgnored('src/a/b.test.ts', patterns)).toBe(true);
    expect(dockerIgnored('src/b.test.ts', patterns)).toBe(true);
    expect(dockerIgnored('src/private/x.ts', patterns)).toBe(true);
    expect(dockerIgnored('src/private/keep.ts', patterns)).toBe(false);
  });
});
