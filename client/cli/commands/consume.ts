// `sluice consume TOPIC`: print records from a start position until caught up (or forever with
// --follow). Reads only committed records (below the high watermark), as every consumer does.
import type { Command } from 'commander';
import { SluiceError } from '../../../common/errors.ts';
import { MAX_PARTITIONS } from '../../../common/topic-config.ts';
import { openConsumer, requirePartition, requireTopic, withAdmin } from '../client-session.ts';
import { CatchUpTracker, formatRecordJson, formatRecordText, resolveStart, type StartPosition } from '../consume-plan.ts';
import { parseInteger, parseStartOffset, parseTimestamp } from '../option-parsers.ts';
import { warn } from '../output.ts';
import type { ContextOf } from '../program.ts';
import { checkTopicName } from './topic.ts';

interface ConsumeOptions {
  fromBeginning?: boolean;
  offset?: number | 'earliest' | 'latest';
  partition?: number;
  fromTimestamp?: number;
  maxMessages?: number;
  follow?: boolean;
  printKey?: boolean;
  printOffset?: boolean;
  timeoutMs?: number;
}

/** Longest single poll, so Ctrl-C and the timeouts are noticed promptly. */
const POLL_SLICE_MS = 500;

export function registerConsumeCommand(program: Command, contextOf: ContextOf): void {
  program
    .command('consume')
    .description('print records of a topic (values by default; one JSON object per line with --output json)')
    .argument('<topic>', 'topic to read')
    .option('--from-beginning', 'start at the oldest retained record')
    .option('--offset <n>', 'start at this offset (or earliest / latest) of --partition', parseStartOffset)
    .option('--partition <p>', 'read only this partition', (v) => parseInteger('--partition', v, { min: 0, max: MAX_PARTITIONS - 1 }))
    .option('--from-timestamp <time>', 'start at the first record at or after this time (ms since the epoch, or ISO-8601)', parseTimestamp)
    .option('--max-messages <n>', 'stop after this many records', (v) => parseInteger('--max-messages', v, { min: 1 }))
    .option('--follow', 'keep waiting for new records after catching up (Ctrl-C stops)')
    .option('--print-key', 'print the key before the value (tab-separated)')
    .option('--print-offset', 'print partition and offset before key and value (tab-separated)')
    .option('--timeout-ms <ms>', 'stop when no record arrives for this long', (v) => parseInteger('--timeout-ms', v, { min: 1 }))
    .addHelpText('after', `
Without --follow, consume stops once it has read up to the end each partition had when it
started. Starting at the end (the default, as kafka-console-consumer does) has nothing to
catch up with, so it waits for new records like --follow.

Exit code 0 when it stopped as asked (caught up, --max-messages, --timeout-ms while following,
Ctrl-C); 1 when the cluster failed it or --timeout-ms passed before it caught up.

Examples:
  sluice consume orders --from-beginning
  sluice consume orders --partition 2 --offset 1000 --max-messages 10 --print-offset
  sluice consume orders --from-timestamp 2025-01-31T12:00:00Z --print-key
  sluice consume orders --from-beginning --output json | jq .value`)
    .action(async (topic: string, opts: ConsumeOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      checkTopicName(topic);
      const { start, follow } = resolveStart(opts);

      // Partitions and the end offsets to catch up with, before the consumer exists: a missing
      // topic or partition is reported at once instead of being waited for.
      const { tps, ends } = await withAdmin(ctx, async (admin) => {
        const count = await requireTopic(admin, topic);
        if (opts.partition !== undefined) requirePartition(topic, opts.partition, count);
        const tps = opts.partition !== undefined ? [{ topic, partition: opts.partition }] : Array.from({ length: count }, (_, partition) => ({ topic, partition }));
        const needEnds = !follow || start.kind === 'offset';
        const ends = needEnds ? await admin.listOffsets(tps.map((tp) => ({ ...tp, spec: 'latest' as const }))) : [];
        if (start.kind === 'offset') {
          const [earliest] = await admin.listOffsets(tps.map((tp) => ({ ...tp, spec: 'earliest' as const })));
          const end = ends[0]?.offset ?? 0;
          const first = earliest?.offset ?? 0;
          if (start.offset < first || start.offset > end) {
            throw new SluiceError('OFFSET_OUT_OF_RANGE',
              `offset ${start.offset} is outside partition ${topic}-${opts.partition}, which ` +
                (end > first ? `holds offsets ${first} to ${end - 1}` : `holds no records (its next offset is ${end})`),
              { topic, partition: opts.partition, logStartOffset: first, logEndOffset: end });
          }
        }
        return { tps, ends };
      });

      // An explicit offset outside the log is an error to report with the valid range; the
      // other positions follow retention (a start deleted while reading moves to the new start).
      const consumer = await openConsumer(ctx, { autoOffsetReset: start.kind === 'offset' ? 'none' : 'earliest' });
      let stopRequested = false;
      const onSignal = () => { stopRequested = true; };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let count = 0;
      try {
        consumer.assign(tps);
        await seekTo(consumer, tps, start);
        const tracker = new CatchUpTracker(follow ? [] : await Promise.all(tps.map(async (tp) => ({
          partition: tp.partition,
          next: await consumer.position(tp),
          end: ends.find((e) => e.partition === tp.partition)?.offset ?? 0,
        }))));
        let lastRecordAt = Date.now();
        while (!stopRequested && (follow || !tracker.caughtUp)) {
          const records = await consumer.poll(POLL_SLICE_MS);
          const now = Date.now();
          if (records.length > 0) lastRecordAt = now;
          let out = '';
          for (const r of records) {
            out += `${ctx.output === 'json' ? formatRecordJson(r) : formatRecordText(r, opts)}\n`;
            tracker.consumed(r.partition, r.offset);
            count++;
            if (opts.maxMessages !== undefined && count >= opts.maxMessages) break;
          }
          // A slow reader at the other end of a pipe sets the pace, not this process's memory.
          if (out && !ctx.io.stdout.write(out)) await new Promise((resolve) => ctx.io.stdout.once('drain', resolve));
          if (opts.maxMessages !== undefined && count >= opts.maxMessages) break;
          if (opts.timeoutMs !== undefined && records.length === 0 && now - lastRecordAt >= opts.timeoutMs) {
            if (follow || tracker.caughtUp) break;
            throw new SluiceError('REQUEST_TIMED_OUT',
              `no record arrived for ${opts.timeoutMs} ms (--timeout-ms) before catching up; partitions still behind: ${tracker.behind.join(', ')}`,
              { topic });
          }
        }
      } finally {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        await consumer.close();
        if (ctx.io.stderrIsTty) warn(ctx.io, `Processed a total of ${count} messages`);
      }
    });
}

async function seekTo(
  consumer: Awaited<ReturnType<typeof openConsumer>>,
  tps: { topic: string; partition: number }[],
  start: StartPosition,
): Promise<void> {
  switch (start.kind) {
    case 'beginning':
      return consumer.seekToBeginning(tps);
    case 'end':
      return consumer.seekToEnd(tps);
    case 'timestamp':
      return consumer.seekToTimestamp(tps, start.timestamp);
    case 'offset':
      for (const tp of tps) consumer.seek(tp, start.offset);
      return;
  }
}
