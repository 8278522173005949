// `npm run chart:sync`: brings every generated or copied file of the chart up to date:
//   node charts/sync-chart-files.ts [--allow-missing]
// Copies the CRD, the Grafana dashboard and the alert rules into charts/sluice, regenerates the
// values table of charts/sluice/README.md and the plain manifests in deploy/kubernetes/.
// A missing source is an error; --allow-missing writes a placeholder copy instead (local work
// only: test/chart-files.test.ts fails while a copy differs from its source).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHART_COPIES, CHART_DIR, CHART_README, PLACEHOLDERS, PLAIN_MANIFESTS, ROOT, chartReadme, plainManifests, readRepoFile } from './chart-files.ts';

const allowMissing = process.argv.includes('--allow-missing');

function write(rel: string, content: string): void {
  const target = path.join(ROOT, rel);
  if (fs.existsSync(target) && fs.readFileSync(target, 'utf8') === content) {
    process.stdout.write(`${rel} is up to date\n`);
    return;
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, content);
  process.stdout.write(`wrote ${rel}\n`);
}

let missing = 0;
for (const { from, to } of CHART_COPIES) {
  if (fs.existsSync(path.join(ROOT, from))) {
    write(to, readRepoFile(from));
  } else if (allowMissing && PLACEHOLDERS[from] !== undefined) {
    write(to, PLACEHOLDERS[from]);
    process.stderr.write(`${from} does not exist yet: ${to} is a PLACEHOLDER; sync again once it exists\n`);
  } else {
    process.stderr.write(`${from} does not exist; the chart needs it (--allow-missing writes a placeholder for local work)\n`);
    missing++;
  }
}
if (missing > 0) process.exit(1);

write(CHART_README, chartReadme(readRepoFile(CHART_README), readRepoFile(`${CHART_DIR}/values.yaml`)));
write(PLAIN_MANIFESTS, plainManifests());
