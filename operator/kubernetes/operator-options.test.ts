import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseOperatorArgs } from './operator-options.ts';

const silent = { writeOut: () => {}, writeErr: () => {} };

describe('parseOperatorArgs', () => {
  it('defaults: Lease timings of client-go, the pod namespace, a unique identity', () => {
    const o = parseOperatorArgs([], { POD_NAMESPACE: 'data', POD_NAME: 'sluice-operator-7d9' }, silent);
    expect(o).toMatchObject({ namespace: 'data', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, brokerSelector: 'app.kubernetes.io/component=broker', kubeconfig: undefined });
    expect(o.identity).toMatch(/^sluice-operator-7d9-[0-9a-f]{8}$/);
    expect(parseOperatorArgs([], {}, silent).identity).not.toBe(parseOperatorArgs([], {}, silent).identity);
  });

  it('takes environment variables over defaults, and flags over both', () => {
    // commander reads the SLUICE_OPERATOR_* fallbacks from process.env itself.
    process.env.SLUICE_OPERATOR_NAMESPACE = 'env';
    try {
      expect(parseOperatorArgs([], {}, silent).namespace).toBe('env');
      expect(parseOperatorArgs(['--namespace', 'flag'], {}, silent).namespace).toBe('flag');
    } finally {
      delete process.env.SLUICE_OPERATOR_NAMESPACE;
    }
  });

  it('refuses Lease timings that would let two operators act at once', () => {
    expect(() => parseOperatorArgs(['--renew-deadline-ms', '20000'], {}, silent)).toThrow(CommanderError);
    expect(() => parseOperatorArgs(['--retry-period-ms', '10000'], {}, silent)).toThrow(/retry-period-ms/);
    expect(() => parseOperatorArgs(['--heartbeat-interval-ms', '7000'], {}, silent)).toThrow(/session-timeout-ms/);
  });
});
