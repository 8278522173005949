// `sluice perf produce|consume`: load generators that print what kafka-producer-perf-test and
// kafka-consumer-perf-test print, so results compare line for line with Kafka's.
import type { Command } from 'commander';
import { SluiceError, isSluiceError } from '../../../common/errors.ts';
import { BATCH_HEADER_SIZE } from '../../../common/record-batch.ts';
import { openConsumer, openProducer, requireTopic, withAdmin } from '../client-session.ts';
import { InFlightWindow } from '../in-flight-window.ts';
import { parseAcks, parseCompression, parseInteger, type AcksOption, type CompressionOption } from '../option-parsers.ts';
import { Progress, printJson, printLine } from '../output.ts';
import {
  CONSUMER_PERF_HEADER,
  ProducerPerfStats,
  consumerPerfFields,
  formatConsumerPerf,
  formatProducerTotal,
  formatProducerWindow,
  throttleDelayMs,
} from '../perf-stats.ts';
import type { ContextOf } from '../program.ts';
import { estimateRecordSize } from '../../record-accumulator.ts';
import type { RecordMetadata } from '../../records.ts';
import { checkTopicName } from './topic.ts';

const MIB = 1024 * 1024;
/** Kafka's buffer.memory default, so that latency at full speed compares with Kafka's. */
const DEFAULT_PERF_BUFFER_MEMORY = 32 * MIB;
const MAX_PENDING_RECORDS = 100_000;

interface PerfProduceOptions {
  topic: string;
  numRecords: number;
  recordSize: number;
  throughput: number;
  acks: AcksOption;
  batchSize?: number;
  lingerMs?: number;
  bufferMemory?: number;
  compression: CompressionOption;
  reportingIntervalMs: number;
}

interface PerfConsumeOptions {
  topic: string;
  messages: number;
  timeoutMs: number;
}

export function registerPerfCommand(program: Command, contextOf: ContextOf): void {
  const perf = program.command('perf').description('measure produce and consume throughput and latency');

  perf
    .command('produce')
    .description('send records as fast as allowed and report throughput and per-record latency (send to ack)')
    .requiredOption('--topic <name>', 'topic to write to (must exist)')
    .requiredOption('--num-records <n>', 'records to send', (v) => parseInteger('--num-records', v, { min: 1 }))
    .option('--record-size <bytes>', 'value size of each record', (v) => parseInteger('--record-size', v, { min: 0, max: 64 * MIB }), 1024)
    .option('--throughput <n>', 'records per second to aim for; -1 means no limit', (v) => parseInteger('--throughput', v, { min: -1 }), -1)
    .option('--acks <acks>', 'all, 1 or 0', parseAcks, 1 as AcksOption)
    .option('--batch-size <bytes>', 'largest batch per partition (default: the producer default)', (v) => parseInteger('--batch-size', v, { min: 1 }))
    .option('--linger-ms <ms>', 'how long to wait to fill a batch (default: the producer default)', (v) => parseInteger('--linger-ms', v, { min: 0 }))
    .option('--buffer-memory <bytes>', 'producer bufferMemory, and so the most record bytes sent but not acknowledged (default: 32 MiB, Kafka\'s buffer.memory, or two records if larger)',
      (v) => parseInteger('--buffer-memory', v, { min: 1 }))
    .option('--compression <codec>', 'none, gzip or zstd', parseCompression, 'none' as CompressionOption)
    .option('--reporting-interval-ms <ms>', 'how often to print a progress line', (v) => parseInteger('--reporting-interval-ms', v, { min: 1 }), 5_000)
    .addHelpText('after', `
Output is kafka-producer-perf-test's: a line per interval, then the totals with latency
percentiles; MB means MiB. With --output json only the totals are printed, as one object.
Latency runs from send() to the acknowledgement, in whole milliseconds as Kafka's; flat out,
it is mostly time queued behind --buffer-memory of earlier records.

Example:
  sluice perf produce --topic perf --num-records 1000000 --record-size 1024 --acks all`)
    .action(async (opts: PerfProduceOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      checkTopicName(opts.topic);
      await withAdmin(ctx, (admin) => requireTopic(admin, opts.topic));
      const payload = randomPayload(opts.recordSize);
      const recordBytes = estimateRecordSize(null, payload, undefined);
      const bufferMemory = opts.bufferMemory ?? Math.max(DEFAULT_PERF_BUFFER_MEMORY, 2 * (recordBytes + BATCH_HEADER_SIZE));
      const producer = await openProducer(ctx, {
        acks: opts.acks,
        compression: opts.compression,
        valueSerializer: 'buffer',
        keySerializer: 'buffer',
        ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
        ...(opts.lingerMs !== undefined ? { lingerMs: opts.lingerMs } : {}),
        bufferMemory,
      });
      // As many records unacknowledged as bufferMemory holds: where Kafka's send() blocks on a
      // full buffer.memory, this loop waits. Bounded, so a tiny record size does not become
      // millions of pending promises.
      const windowLimit = Math.min(MAX_PENDING_RECORDS, Math.max(1, Math.floor(bufferMemory / recordBytes)));
      // One record object for the whole run: send() copies what it needs and keeps nothing of
      // it, and the loop below must cost as little per record as possible, or it measures itself.
      const record = { topic: opts.topic, value: payload };
      const window = new InFlightWindow(windowLimit, { resumeAt: windowLimit - Math.max(1, Math.floor(windowLimit / 16)) });
      const stats = new ProducerPerfStats(opts.numRecords, { reportingIntervalMs: opts.reportingIntervalMs });
      let failed = 0;
      let firstError: unknown;
      const onFailure = (err: unknown): void => {
        window.leave();
        failed++;
        firstError ??= err;
      };
      // Latency is measured as Kafka's perf test measures it, in whole milliseconds from the
      // send() call: a record sent without a timestamp gets Date.now() at send() as its
      // timestamp, and the acknowledgement hands it back. One handler for every record, so
      // the run does not keep a closure, its context and a boxed start time per record in
      // flight (tens of thousands of them), which the GC would have to trace and promote.
      const onAck = (metadata: RecordMetadata): void => {
        window.leave();
        const now = Date.now();
        const w = stats.record(now - metadata.timestamp, opts.recordSize);
        if (w && ctx.output === 'text') printLine(ctx.io, formatProducerWindow(w));
      };
      const start = performance.now();
      try {
        for (let i = 0; i < opts.numRecords; i++) {
          if (opts.throughput > 0) {
            const wait = throttleDelayMs(i, performance.now() - start, opts.throughput);
            if (wait > 0) await sleep(wait);
          }
          // Most records find room at once; awaiting admit() for each would cost a promise and
          // a trip through the microtask queue per record.
          if (!window.hasRoom) await window.admit();
          window.enter();
          producer.send(record).then(onAck, onFailure);
          if (firstError !== undefined) break;
        }
        await producer.flush();
        await window.drain();
      } finally {
        await producer.close();
      }
      const totals = stats.totals();
      if (ctx.output === 'json') printJson(ctx.io, { ...totals, failed, topic: opts.topic, recordSize: opts.recordSize, acks: opts.acks });
      else printLine(ctx.io, formatProducerTotal(totals));
      if (failed > 0) {
        const message = firstError instanceof Error ? firstError.message : String(firstError);
        throw new SluiceError(isSluiceError(firstError) ? firstError.code : 'UNKNOWN',
          `${failed} records were not acknowledged and the run stopped; the first failed with: ${message}`);
      }
    });

  perf
    .command('consume')
    .description('read records from the beginning of every partition and report throughput')
    .requiredOption('--topic <name>', 'topic to read')
    .requiredOption('--messages <n>', 'records to read', (v) => parseInteger('--messages', v, { min: 1 }))
    .option('--timeout-ms <ms>', 'give up after this long without a record', (v) => parseInteger('--timeout-ms', v, { min: 1 }), 10_000)
    .addHelpText('after', `
Output is kafka-consumer-perf-test's: a header line and a line of values; MB means MiB.
Partitions are assigned directly (no consumer group), so rebalance.time.ms is the time to
find and seek the partitions.`)
    .action(async (opts: PerfConsumeOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      checkTopicName(opts.topic);
      const startMs = Date.now();
      const partitions = await withAdmin(ctx, (admin) => requireTopic(admin, opts.topic));
      const consumer = await openConsumer(ctx, { autoOffsetReset: 'earliest' });
      let messages = 0;
      let bytes = 0;
      let rebalanceMs = 0;
      let lastRecordAt = Date.now();
      const progress = new Progress(ctx.io);
      try {
        const tps = Array.from({ length: partitions }, (_, partition) => ({ topic: opts.topic, partition }));
        consumer.assign(tps);
        await consumer.seekToBeginning(tps);
        rebalanceMs = Date.now() - startMs;
        lastRecordAt = Date.now();
        while (messages < opts.messages && Date.now() - lastRecordAt < opts.timeoutMs) {
          const records = await consumer.poll(Math.min(1_000, opts.timeoutMs));
          if (records.length > 0) lastRecordAt = Date.now();
          for (const r of records) {
            messages++;
            bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
          }
          progress.update(`consumed ${messages} of ${opts.messages} records`);
        }
      } finally {
        progress.clear();
        await consumer.close();
      }
      const result = { startMs, endMs: Date.now(), bytes, messages, rebalanceMs };
      if (ctx.output === 'json') {
        printJson(ctx.io, { ...result, ...consumerPerfFields(result) });
      } else {
        printLine(ctx.io, CONSUMER_PERF_HEADER);
        printLine(ctx.io, formatConsumerPerf(result));
      }
      if (messages < opts.messages) {
        throw new SluiceError('REQUEST_TIMED_OUT', `read ${messages} of ${opts.messages} records; no record arrived for ${opts.timeoutMs} ms. ` +
          'Produce more (sluice perf produce), lower --messages, or raise --timeout-ms.');
      }
    });
}

/** Uppercase letters, as Kafka's perf test fills its payload: realistic for compression. */
function randomPayload(size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buf[i] = 65 + Math.floor(Math.random() * 26);
  return buf;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
