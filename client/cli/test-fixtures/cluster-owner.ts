// A process that owns an EmbeddedCluster of fake children and then goes away in the way named
// by its argument (exit, throw, SIGTERM from outside), so a test can check that no child
// outlives it.
import { fileURLToPath } from 'node:url';
import { EmbeddedCluster } from '../embedded-cluster.ts';

const [dataDir, how] = process.argv.slice(2);
const fake = fileURLToPath(new URL('./fake-sluice-process.ts', import.meta.url));
const cluster = await EmbeddedCluster.start({ dataDir: dataDir!, brokers: 2, brokerScript: fake, controllerScript: fake });
const pids = [cluster.controllerInfo.pid, ...cluster.brokers.map((b) => b.pid)];
process.stdout.write(`${JSON.stringify({ pids })}\n`);

if (how === 'exit') process.exit(0);
if (how === 'throw') throw new Error('owner crashed on purpose');
// 'wait': stay until a signal arrives from the test.
setInterval(() => undefined, 1_000);
