import { describe, expect, it } from 'vitest';
import { KubeStatusError } from './api-status.ts';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, readFieldPath } from './selectors.ts';

const matches = (selector: string, labels?: Record<string, string>) => matchesLabels(parseLabelSelector(selector), labels);

describe('label selectors', () => {
  it('follows apimachinery semantics for equality, sets and existence', () => {
    const labels = { app: 'sluice', tier: 'broker', 'sluice.dev/broker-id': '3' };
    expect(matches('', labels)).toBe(true);
    expect(matches('app=sluice,tier==broker', labels)).toBe(true);
    expect(matches('app=sluice,tier=controller', labels)).toBe(false);
    expect(matches('tier in (broker, controller)', labels)).toBe(true);
    expect(matches('tier notin (broker)', labels)).toBe(false);
    expect(matches('sluice.dev/broker-id', labels)).toBe(true);
    expect(matches('!sluice.dev/broker-id', labels)).toBe(false);
    expect(matches('sluice.dev/broker-id>2,sluice.dev/broker-id<4', labels)).toBe(true);
    // `!=` and `notin` also match objects that lack the label entirely.
    expect(matches('zone!=a', labels)).toBe(true);
    expect(matches('zone notin (a,b)', undefined)).toBe(true);
    expect(matches('zone in (a)', undefined)).toBe(false);
  });

  it('refuses malformed selectors with a 400 Status', () => {
    for (const bad of ['app=(x', 'a b=c', 'app in (x y)', 'n>x']) {
      let err: unknown;
      try {
        parseLabelSelector(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(KubeStatusError);
      expect((err as KubeStatusError).code).toBe(400);
    }
  });
});

describe('field selectors', () => {
  const labels = { 'spec.nodeName': (o: Record<string, unknown>) => readFieldPath(o, 'spec.nodeName'), 'status.phase': (o: Record<string, unknown>) => readFieldPath(o, 'status.phase') };

  it('matches =, == and != (a missing field reads as the empty string) and honours escapes', () => {
    const pod = { spec: { nodeName: 'node-a' }, status: {} };
    expect(matchesFields(parseFieldSelector('spec.nodeName=node-a'), labels, pod)).toBe(true);
    expect(matchesFields(parseFieldSelector('spec.nodeName==node-b'), labels, pod)).toBe(false);
    expect(matchesFields(parseFieldSelector('spec.nodeName=node-a,status.phase!=Running'), labels, pod)).toBe(true);
    expect(matchesFields(parseFieldSelector('status.phase='), labels, pod)).toBe(true);
    expect(parseFieldSelector('metadata.name=a\\,b')).toEqual([{ field: 'metadata.name', value: 'a,b', negate: false }]);
  });
});
