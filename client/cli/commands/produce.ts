// `sluice produce TOPIC`: one record per input line, from stdin or a file.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { SluiceError, isSluiceError } from '../../../common/errors.ts';
import { MAX_PARTITIONS } from '../../../common/topic-config.ts';
import { UsageError } from '../cli-errors.ts';
import { openProducer, requirePartition, requireTopic, withAdmin } from '../client-session.ts';
import { InFlightWindow } from '../in-flight-window.ts';
import { parseAcks, parseCompression, parseInteger, type AcksOption, type CompressionOption } from '../option-parsers.ts';
import { Progress, printJson, printLine } from '../output.ts';
import type { ContextOf } from '../program.ts';
import { checkTopicName } from './topic.ts';

/** Records awaiting acknowledgement at once; beyond it, reading input waits. */
const MAX_PENDING_RECORDS = 10_000;

interface ProduceOptions {
  file?: string;
  keySeparator?: string;
  partition?: number;
  acks: AcksOption;
  compression: CompressionOption;
  lingerMs?: number;
  batchSize?: number;
}

export interface ProduceSummary {
  topic: string;
  records: number;
  acked: number;
  failed: number;
  /** Acknowledged records per partition. */
  partitions: Record<string, number>;
}

export function registerProduceCommand(program: Command, contextOf: ContextOf): void {
  program
    .command('produce')
    .description('send one record per line of stdin (or --file) to a topic')
    .argument('<topic>', 'topic to write to')
    .option('--file <path>', 'read lines from this file instead of stdin')
    .option('--key-separator <sep>', 'each line is KEY<sep>VALUE; without it lines are values with no key')
    .option('--partition <p>', 'write every record to this partition instead of letting the partitioner choose',
      (v) => parseInteger('--partition', v, { min: 0, max: MAX_PARTITIONS - 1 }))
    .option('--acks <acks>', 'all: every in-sync replica has it; 1: the leader has it; 0: do not wait', parseAcks, 'all' as AcksOption)
    .option('--compression <codec>', 'none, gzip or zstd', parseCompression, 'none' as CompressionOption)
    .option('--linger-ms <ms>', 'how long to wait to fill a batch', (v) => parseInteger('--linger-ms', v, { min: 0 }))
    .option('--batch-size <bytes>', 'largest batch per partition', (v) => parseInteger('--batch-size', v, { min: 1 }))
    .addHelpText('after', `
Keys are hashed with Kafka's murmur2 partitioner, so a key lands on the same partition number
as with a Kafka client. The exit code is 0 only if every record was acknowledged.

Examples:
  echo hello | sluice produce orders
  printf 'user-1:signed up\\nuser-2:paid\\n' | sluice produce orders --key-separator :
  sluice produce orders --file events.txt --acks 1 --compression gzip`)
    .action(async (topic: string, opts: ProduceOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      checkTopicName(topic);
      if (opts.keySeparator === '') throw new UsageError('--key-separator must not be empty');
      const input = opts.file !== undefined ? createReadStream(opts.file) : ctx.io.stdin;
      // Opening the file first turns a missing file into a clear error before any connection.
      if (opts.file !== undefined) await new Promise<void>((resolve, reject) => {
        (input as ReturnType<typeof createReadStream>).once('open', () => resolve()).once('error', reject);
      });

      await withAdmin(ctx, async (admin) => {
        const partitions = await requireTopic(admin, topic);
        if (opts.partition !== undefined) requirePartition(topic, opts.partition, partitions);
      });
      const producer = await openProducer(ctx, {
        acks: opts.acks,
        compression: opts.compression,
        keySerializer: 'string',
        valueSerializer: 'string',
        ...(opts.lingerMs !== undefined ? { lingerMs: opts.lingerMs } : {}),
        ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
      });
      const summary: ProduceSummary = { topic, records: 0, acked: 0, failed: 0, partitions: {} };
      let firstError: unknown;
      let inputError: SluiceError | undefined;
      const window = new InFlightWindow(MAX_PENDING_RECORDS);
      const progress = new Progress(ctx.io);
      try {
        const lines = createInterface({ input, crlfDelay: Infinity });
        let lineNo = 0;
        for await (const line of lines) {
          lineNo++;
          const record = splitLine(line, opts.keySeparator);
          if (record === null) {
            inputError = new SluiceError('INVALID_REQUEST',
              `line ${lineNo} has no key separator "${opts.keySeparator}"; with --key-separator every line must be KEY${opts.keySeparator}VALUE. ` +
              `Records before it were sent; nothing after it was.`);
            break;
          }
          await window.admit();
          summary.records++;
          // send() never throws; a record it refuses comes back as a rejected promise.
          const sent = producer
            .send({ topic, ...record, ...(opts.partition !== undefined ? { partition: opts.partition } : {}) })
            .then(
              (meta) => {
                summary.acked++;
                summary.partitions[meta.partition] = (summary.partitions[meta.partition] ?? 0) + 1;
              },
              (err: unknown) => {
                summary.failed++;
                firstError ??= err;
              },
            );
          window.track(sent);
          progress.update(`produced ${summary.acked} of ${summary.records} records read`);
          // After a failure the rest would most likely fail the same way (unknown topic, no
          // leader); stop reading so the exit comes now rather than after the whole input.
          if (firstError !== undefined) break;
        }
        lines.close();
        await producer.flush();
        await window.drain();
      } finally {
        progress.clear();
        await producer.close();
      }

      if (ctx.output === 'json') printJson(ctx.io, summary);
      else printLine(ctx.io, summaryText(summary));
      if (inputError) throw inputError;
      if (summary.failed > 0) {
        const code = isSluiceError(firstError) ? firstError.code : 'UNKNOWN';
        const message = firstError instanceof Error ? firstError.message : String(firstError);
        throw new SluiceError(code, `${summary.failed} of ${summary.records} records sent were not acknowledged, and reading stopped there; the first failed with: ${message}`);
      }
    });
}

export function splitLine(line: string, separator: string | undefined): { key?: string; value: string } | null {
  if (separator === undefined) return { value: line };
  const at = line.indexOf(separator);
  if (at < 0) return null;
  return { key: line.slice(0, at), value: line.slice(at + separator.length) };
}

export function summaryText(s: ProduceSummary): string {
  const parts = Object.entries(s.partitions)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([p, n]) => `${p}: ${n}`)
    .join(', ');
  const failed = s.failed > 0 ? `, ${s.failed} failed` : '';
  return `${s.acked} of ${s.records} records acknowledged by topic "${s.topic}"${failed}` + (parts ? ` (per partition: ${parts})` : '');
}
