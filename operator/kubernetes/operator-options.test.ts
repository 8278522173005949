import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { namespaceOf, parseOperatorArgs } from './operator-options.ts';

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

describe('namespaceOf', () => {
  const kubeConfig = (namespace?: string) => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://k8s.example:6443', skipTLSVerify: false }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u', ...(namespace ? { namespace } : {}) }],
      currentContext: 'ctx',
    });
    return kc;
  };

  it('takes the namespace asked for, else the kubeconfig context\'s, else default', () => {
    expect(namespaceOf('asked', kubeConfig('context'))).toBe('asked');
    expect(namespaceOf(undefined, kubeConfig('context'))).toBe('context');
    expect(namespaceOf(undefined, kubeConfig())).toBe('default');
    expect(parseOperatorArgs([], {}, silent).namespace).toBeUndefined();
  });

  it('in a pod, takes the service account\'s namespace (the in-cluster config)', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-sa-'));
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    try {
      const sa = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
      fs.mkdirSync(sa, { recursive: true });
      fs.writeFileSync(path.join(sa, 'namespace'), 'streaming');
      fs.writeFileSync(path.join(sa, 'token'), 'token');
      process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
      process.env.KUBERNETES_SERVICE_PORT = '443';
      const kc = new KubeConfig();
      kc.loadFromCluster(root);
      expect(kc.getCurrentCluster()?.server).toBe('https://10.96.0.1:443');
      expect(namespaceOf(undefined, kc)).toBe('streaming');
    } finally {
      for (const [key, value] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
