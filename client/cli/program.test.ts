import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from './program.ts';
import type { CliIo } from './output.ts';

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => { out += c.toString(); });
  stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const io: CliIo = { stdout, stderr, stdin: Readable.from([]), env, stderrIsTty: false };
  const code = await runCli(argv, io);
  return { code, stdout: out, stderr: err };
}

describe('sluice command line', () => {
  it('prints help for the program and every command, exit 0', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['dev', 'topic', 'apply', 'produce', 'consume', 'cluster', 'perf']) expect(top.stdout).toContain(c);
    for (const argv of [
      ['dev', '--help'], ['topic', '--help'], ['topic', 'create', '--help'], ['topic', 'list', '--help'],
      ['topic', 'describe', '--help'], ['topic', 'alter', '--help'], ['topic', 'delete', '--help'], ['apply', '--help'],
      ['produce', '--help'], ['consume', '--help'], ['cluster', 'describe', '--help'], ['perf', 'produce', '--help'],
      ['perf', 'consume', '--help'],
    ]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stdout, argv.join(' ')).toMatch(/^Usage: sluice /);
    }
  });

  it('lists every topic config key with its description in topic create --help', async () => {
    const r = await run(['topic', 'create', '--help']);
    expect(r.stdout).toContain('min.insync.replicas');
    expect(r.stdout).toContain('unclean.leader.election.enable');
  });

  it('exits 2 with the reason for usage errors, before contacting any broker', async () => {
    const cases: [string[], RegExp][] = [
      [['topic', 'create', 'orders'], /required option '--partitions <n>' not specified/],
      [['topic', 'create', 'orders', '--partitions', 'many'], /--partitions must be a whole number from 1 to 10000 \(got "many"\)/],
      [['topic', 'create', 'orders', '--partitions', '3', '--config', 'retention.msx=1'], /unknown topic config key "retention.msx"/],
      [['topic', 'create', 'bad/name', '--partitions', '3'], /topic name "bad\/name" has characters outside/],
      [['topic', 'alter', 'orders'], /nothing to change: give --partitions, --replication-factor or --config/],
      [['topic'], /Usage: sluice topic/],
      [['nonsense'], /unknown command 'nonsense'/],
      [['topic', 'list', '--output', 'yaml'], /argument 'yaml' is invalid/],
      [['topic', 'list', '--bootstrap-server', 'nohost'], /"nohost" is not HOST:PORT/],
      [['produce', 'orders', '--acks', '2'], /--acks must be all, 1 or 0/],
      [['consume', 'orders', '--offset', '5'], /--offset needs --partition/],
      [['consume', 'orders', '--from-beginning', '--from-timestamp', '0'], /give only one of --from-beginning, --offset, --from-timestamp/],
      [['consume', 'orders', '--from-timestamp', 'yesterday'], /--from-timestamp must be milliseconds/],
      [['perf', 'produce', '--topic', 't'], /required option '--num-records <n>' not specified/],
      [['dev', '--brokers', '0'], /--brokers must be a whole number from 1/],
      [['apply'], /required option '-f, --filename <file>' not specified/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(message);
      expect(r.stdout, argv.join(' ')).toBe('');
    }
  });

  it('takes the bootstrap servers from SLUICE_BOOTSTRAP_SERVERS and checks them', async () => {
    const r = await run(['topic', 'list'], { SLUICE_BOOTSTRAP_SERVERS: 'a:b' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SLUICE_BOOTSTRAP_SERVERS: "a:b" is not HOST:PORT');
  });

  it('exits 1 naming the Sluice code for a Topic file that fails validation', async () => {
    const r = await run(['apply', '-f', new URL('./test-fixtures/bad-topic.yaml', import.meta.url).pathname]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error \[INVALID_CONFIG\]: invalid Topic manifest:/);
    expect(r.stderr).toContain('bad-topic.yaml: spec.config has unknown key "retention.msec"');
    expect(r.stderr).toContain('hint: ');
  });

  it('exits 1 when the file to apply does not exist', async () => {
    const r = await run(['apply', '-f', '/nonexistent/topics.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ENOENT: no such file or directory, open '/nonexistent/topics.yaml'");
  });
});
