import { describe, expect, it } from 'vitest';
import { brokerUsage, loadBrokerConfig, type BrokerConfig } from './broker-config.ts';

function load(argv: string[], env: Record<string, string> = {}): BrokerConfig {
  const result = loadBrokerConfig(argv, env);
  if (result.help) throw new Error('unexpected --help');
  return result.config;
}

function failure(argv: string[], env: Record<string, string> = {}): string {
  try {
    loadBrokerConfig(argv, env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('loadBrokerConfig', () => {
  it('fills defaults around the required flags and types the numbers', () => {
    const c = load(['--id', '2', '--data-dir', '/tmp/d']);
    expect(c).toEqual({
      id: 2,
      dataDir: '/tmp/d',
      controller: '127.0.0.1:9090',
      host: '127.0.0.1',
      bindHost: '127.0.0.1',
      port: 9092,
      httpPort: 9192,
      rack: '',
      retentionCheckIntervalMs: 300_000,
      flushCheckIntervalMs: 1_000,
      shutdownTimeoutMs: 10_000,
      replicaLagTimeMaxMs: 10_000,
      replicaFetchWaitMaxMs: 500,
      controlledShutdownTimeoutMs: 30_000,
      readyCatchUpTimeoutMs: 300_000,
    });
  });

  it('takes the replication and shutdown settings tests shorten', () => {
    const c = load(['--id', '1', '--data-dir', '/x', '--replica-lag-time-max-ms', '1500', '--replica-fetch-wait-max-ms', '100', '--controlled-shutdown-timeout-ms', '0', '--ready-catch-up-timeout-ms', '0']);
    expect(c).toMatchObject({ replicaLagTimeMaxMs: 1500, replicaFetchWaitMaxMs: 100, controlledShutdownTimeoutMs: 0, readyCatchUpTimeoutMs: 0 });
    expect(failure(['--id', '1', '--data-dir', '/x', '--replica-lag-time-max-ms', '0'])).toMatch(/--replica-lag-time-max-ms must be >= 10/);
  });

  it('reads SLUICE_* variables, and a flag wins over its variable', () => {
    const env = { SLUICE_BROKER_ID: '4', SLUICE_DATA_DIR: '/data', SLUICE_BROKER_PORT: '0', SLUICE_BROKER_RACK: 'zone-a', SLUICE_BROKER_HOST: 'b-4.sluice' };
    const c = load(['--port', '7000', '--bind-host', '0.0.0.0'], env);
    expect(c).toMatchObject({ id: 4, dataDir: '/data', port: 7000, rack: 'zone-a', host: 'b-4.sluice', bindHost: '0.0.0.0' });
  });

  it('accepts --flag=value', () => {
    expect(load(['--id=1', '--data-dir=/x', '--controller=ctl.sluice:9090']).controller).toBe('ctl.sluice:9090');
  });

  it('names the missing flag and its variable', () => {
    expect(failure(['--data-dir', '/x'])).toMatch(/--id is required \(or set SLUICE_BROKER_ID\)/);
  });

  it('names the flag whose value is out of range or malformed', () => {
    expect(failure(['--id', '1', '--data-dir', '/x', '--port', '70000'])).toMatch(/--port must be <= 65535 \(got "70000"\)/);
    expect(failure(['--id', 'one', '--data-dir', '/x'])).toMatch(/--id must be integer/);
    expect(failure(['--id', '1', '--data-dir', '/x', '--controller', 'nohost'])).toMatch(/--controller must match/);
  });

  it('refuses unknown flags and points at --help', () => {
    expect(failure(['--id', '1', '--data-dir', '/x', '--prot', '1'])).toMatch(/Unknown option '--prot'.*--help/);
  });

  it('answers --help with a usage text listing every flag and variable', () => {
    expect(loadBrokerConfig(['--help'], {})).toEqual({ help: true });
    const usage = brokerUsage();
    for (const flag of ['--id', '--data-dir', '--controller', '--host', '--bind-host', '--port', '--http-port', '--rack', 'SLUICE_BROKER_ID']) expect(usage).toContain(flag);
  });
});
