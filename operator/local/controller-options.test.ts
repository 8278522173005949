import { afterEach, describe, expect, it, vi } from 'vitest';
import { CommanderError } from 'commander';
import { parseControllerArgs } from './controller-options.ts';

afterEach(() => {
  vi.unstubAllEnvs();
});

function captured() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { writeOut: (s: string) => out.push(s), writeErr: (s: string) => err.push(s) } };
}

function failure(argv: string[]) {
  const io = captured();
  try {
    parseControllerArgs(argv, io.output);
  } catch (e) {
    return { error: e as CommanderError, ...io };
  }
  throw new Error('expected parseControllerArgs to fail');
}

describe('parseControllerArgs', () => {
  it('uses the documented defaults', () => {
    expect(parseControllerArgs(['--data-dir', '/d'])).toEqual({
      host: '127.0.0.1', port: 9090, httpPort: 9190, dataDir: '/d', sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, nodeId: 1000, leaderRebalanceIntervalMs: 10_000,
    });
  });

  it('reads every flag', () => {
    const o = parseControllerArgs(['--data-dir', 'x', '--port', '0', '--http-port', '0', '--host', '::1', '--session-timeout-ms', '3000', '--heartbeat-interval-ms', '500', '--node-id', '7', '--leader-rebalance-interval-ms', '0']);
    expect(o).toEqual({ host: '::1', port: 0, httpPort: 0, dataDir: 'x', sessionTimeoutMs: 3000, heartbeatIntervalMs: 500, nodeId: 7, leaderRebalanceIntervalMs: 0 });
  });

  it('falls back to environment variables, and flags win over them', () => {
    vi.stubEnv('SLUICE_CONTROLLER_DATA_DIR', '/from-env');
    vi.stubEnv('SLUICE_CONTROLLER_PORT', '1234');
    vi.stubEnv('SLUICE_CONTROLLER_SESSION_TIMEOUT_MS', '9000');
    vi.stubEnv('SLUICE_CONTROLLER_LEADER_REBALANCE_INTERVAL_MS', '2500');
    expect(parseControllerArgs([])).toMatchObject({ dataDir: '/from-env', port: 1234, sessionTimeoutMs: 9000, leaderRebalanceIntervalMs: 2500 });
    expect(parseControllerArgs(['--port', '5'])).toMatchObject({ port: 5 });
  });

  it('refuses bad numbers, naming the flag and the accepted range', () => {
    const f = failure(['--data-dir', 'd', '--port', '70000']);
    expect(f.error.exitCode).toBe(1);
    expect(f.err.join('')).toMatch(/--port.*expected an integer from 0 to 65535, got "70000"/);
    expect(failure(['--data-dir', 'd', '--node-id', 'abc']).err.join('')).toMatch(/--node-id/);
    expect(failure(['--data-dir', 'd', '--leader-rebalance-interval-ms', '-1']).err.join('')).toMatch(/--leader-rebalance-interval-ms.*from 0 to 86400000/);
  });

  it('refuses a heartbeat interval that is not below the session timeout', () => {
    expect(failure(['--data-dir', 'd', '--session-timeout-ms', '1000', '--heartbeat-interval-ms', '1000']).err.join('')).toMatch(/must be below --session-timeout-ms/);
  });

  it('requires a data dir', () => {
    expect(failure([]).err.join('')).toMatch(/--data-dir/);
  });

  it('prints help listing every flag with its environment variable, with exit code 0', () => {
    const f = failure(['--help']);
    expect(f.error.exitCode).toBe(0);
    const help = f.out.join('');
    for (const flag of ['--data-dir', '--host', '--port', '--http-port', '--session-timeout-ms', '--heartbeat-interval-ms', '--node-id', '--leader-rebalance-interval-ms']) expect(help).toContain(flag);
    expect(help).toContain('SLUICE_CONTROLLER_DATA_DIR');
  });
});
