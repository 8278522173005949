// Glue between the double and the real @kubernetes/client-node in tests: a KubeConfig pointed
// at the double, the Status out of an ApiException (client-node 2.x keeps the body as text),
// and polling for asynchronous effects (informer callbacks, watch reconnects).
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import type { KubeStatus } from './api-status.ts';
import type { KubeApiDouble } from './kube-api-double.ts';

export function kubeConfigFor(kube: KubeApiDouble): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions(kube.kubeConfigOptions());
  return kc;
}

/** The Status a failed client-node call carried; throws if `err` is not an ApiException with one. */
export function statusOf(err: unknown): KubeStatus {
  if (!(err instanceof ApiException)) throw new Error(`expected an ApiException, got ${String(err)}`);
  const body: unknown = err.body;
  const parsed = typeof body === 'string' ? (JSON.parse(body) as KubeStatus) : (body as KubeStatus);
  if (parsed?.kind !== 'Status') throw new Error(`ApiException ${err.code} without a Status body: ${String(body)}`);
  return parsed;
}

/** Runs `call`, expecting it to fail with an ApiException; returns the Status. */
export async function refusal(call: () => Promise<unknown>): Promise<KubeStatus> {
  try {
    await call();
  } catch (err) {
    return statusOf(err);
  }
  throw new Error('expected the API call to be refused');
}

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
