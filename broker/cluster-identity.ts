// Which cluster a data directory belongs to (Kafka's meta.properties). Written on the first
// metadata from a controller, checked against every later one: a controller that lost its
// state comes back as a new cluster with no topics, and a broker that believed it would delete
// every log it holds as "no longer assigned". With the id on disk it refuses instead, loudly,
// and deletes nothing; an operator decides.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SluiceError } from '../common/errors.ts';
import { writeFileAtomically } from './log/checkpoint-file.ts';

export const META_PROPERTIES_FILE = 'meta.properties';

export interface BrokerIdentity {
  clusterId: string;
  brokerId: number;
}

export type ClusterIdVerdict = 'adopt' | 'same' | 'different';

/**
 * adopt: the directory belongs to no cluster yet (a new broker, or one from before the file
 * existed) and takes this one; same: carry on; different: the metadata is not for this data
 * (also when the controller names no cluster at all).
 */
export function clusterIdVerdict(persisted: string | null, offered: string): ClusterIdVerdict {
  if (offered === '') return 'different';
  if (persisted === null) return 'adopt';
  return persisted === offered ? 'same' : 'different';
}

/**
 * The identity stored in dataDir, or null when there is none yet. A damaged file throws: the
 * data's cluster is then unknown, and adopting whichever controller answers first is exactly
 * the mistake the file exists to prevent.
 */
export async function readBrokerIdentity(dataDir: string): Promise<BrokerIdentity | null> {
  const path = join(dataDir, META_PROPERTIES_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw damaged(path, `line ${JSON.stringify(trimmed.slice(0, 60))} is not key=value`);
    values.set(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  const clusterId = values.get('cluster.id');
  const brokerId = Number(values.get('broker.id'));
  if (values.get('version') !== '0' || !clusterId || !Number.isSafeInteger(brokerId) || brokerId < 0) {
    throw damaged(path, 'it needs version=0, cluster.id and broker.id');
  }
  return { clusterId, brokerId };
}

export async function writeBrokerIdentity(dataDir: string, identity: BrokerIdentity): Promise<void> {
  const text = `# Written by the Sluice broker when it first joined a cluster; do not edit.\nversion=0\ncluster.id=${identity.clusterId}\nbroker.id=${identity.brokerId}\n`;
  await writeFileAtomically(join(dataDir, META_PROPERTIES_FILE), text);
}

function damaged(path: string, problem: string): SluiceError {
  return new SluiceError('STORAGE_ERROR', `${path} is damaged (${problem}); restore it, or delete it only if this data directory really belongs to the cluster of the current controller`);
}
