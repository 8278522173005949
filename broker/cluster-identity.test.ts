import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { META_PROPERTIES_FILE, clusterIdVerdict, readBrokerIdentity, writeBrokerIdentity } from './cluster-identity.ts';

describe('clusterIdVerdict', () => {
  it('adopts the first cluster, accepts it again, and refuses any other (or none)', () => {
    expect(clusterIdVerdict(null, 'c1')).toBe('adopt');
    expect(clusterIdVerdict('c1', 'c1')).toBe('same');
    expect(clusterIdVerdict('c1', 'c2')).toBe('different');
    expect(clusterIdVerdict(null, '')).toBe('different');
    expect(clusterIdVerdict('c1', '')).toBe('different');
  });
});

describe('meta.properties', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  async function dir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'sluice-identity-'));
    dirs.push(d);
    return d;
  }

  it('round-trips the identity, and reads none from a new directory', async () => {
    const d = await dir();
    expect(await readBrokerIdentity(d)).toBeNull();
    await writeBrokerIdentity(d, { clusterId: 'abc-123', brokerId: 2 });
    expect(await readBrokerIdentity(d)).toEqual({ clusterId: 'abc-123', brokerId: 2 });
    expect(await readFile(join(d, META_PROPERTIES_FILE), 'utf8')).toMatch(/^cluster\.id=abc-123$/m);
  });

  it('refuses a damaged file instead of treating the directory as new', async () => {
    const d = await dir();
    await writeFile(join(d, META_PROPERTIES_FILE), 'version=0\nbroker.id=1\n');
    await expect(readBrokerIdentity(d)).rejects.toThrow(/damaged.*cluster\.id/);
    await writeFile(join(d, META_PROPERTIES_FILE), 'garbage');
    await expect(readBrokerIdentity(d)).rejects.toThrow(/not key=value/);
  });
});
