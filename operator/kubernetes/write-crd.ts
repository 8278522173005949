// Writes the Topic CRD manifest from its one source (topic-crd.ts):
//   node operator/kubernetes/write-crd.ts [--check]
// --check writes nothing and exits 1 when the committed file is out of date (for CI).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_FILE, topicCrdYaml } from './topic-crd.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const target = path.join(root, CRD_FILE);
const wanted = topicCrdYaml();
const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;

if (process.argv.includes('--check')) {
  if (current !== wanted) {
    process.stderr.write(`${CRD_FILE} is out of date; run: node operator/kubernetes/write-crd.ts\n`);
    process.exit(1);
  }
  process.stdout.write(`${CRD_FILE} is up to date\n`);
} else if (current === wanted) {
  process.stdout.write(`${CRD_FILE} is up to date\n`);
} else {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, wanted);
  process.stdout.write(`wrote ${CRD_FILE}\n`);
}
