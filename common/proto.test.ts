import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './errors.ts';
import { codeToProto } from './grpc-errors.ts';
import { loadSluiceProto } from './proto.ts';
import { ErrorCode as ProtoErrorCode } from '../proto/gen/sluice/v1/ErrorCode.ts';

const root = path.resolve(import.meta.dirname, '..');

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('the sluice.v1 contract', () => {
  it('has generated types that match the .proto files (run `npm run proto:gen` after editing a .proto)', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'sluice-proto-gen-'));
    try {
      const script = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts['proto:gen'] as string;
      const args = script.split(/\s+/).slice(1).map((a) => (a.startsWith('--outDir=') ? `--outDir=${out}` : a));
      execFileSync(path.join(root, 'node_modules/.bin/proto-loader-gen-types'), args, { cwd: root, stdio: 'pipe' });
      const committed = path.join(root, 'proto/gen');
      expect(listFiles(out)).toEqual(listFiles(committed));
      for (const file of listFiles(out)) {
        expect(readFileSync(path.join(out, file), 'utf8'), file).toBe(readFileSync(path.join(committed, file), 'utf8'));
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('names every wire error code in the TypeScript error list, and the reverse', () => {
    const wire = Object.keys(ProtoErrorCode).sort();
    // NONE maps to ERROR_CODE_UNSPECIFIED; BUFFER_EXHAUSTED and CLOSED never leave the client.
    const clientOnly = new Set(['BUFFER_EXHAUSTED', 'CLOSED']);
    const ts = Object.keys(ERROR_CODES)
      .filter((c) => !clientOnly.has(c))
      .map((c) => codeToProto(c as keyof typeof ERROR_CODES))
      .sort();
    expect(ts).toEqual(wire);
  });

  it('loads every service a process serves', () => {
    const { proto } = loadSluiceProto();
    for (const svc of ['LogService', 'MetadataService', 'AdminService', 'ControllerService', 'ReplicaService'] as const) {
      expect(proto.sluice.v1[svc].service, svc).toBeDefined();
    }
  });
});
