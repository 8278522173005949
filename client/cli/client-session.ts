// Opening and always closing the client library's objects for one command. The library is
// imported on first use, so `--help` and usage errors never pay for loading gRPC.
import { SluiceError } from '../../common/errors.ts';
import type { Admin, Consumer, ConsumerOptions, Producer, ProducerOptions, RawData } from '../index.ts';
import { cliLogger } from './cli-logger.ts';
import type { CliContext } from './output.ts';

export type ProducerValue = RawData;

export async function withAdmin<T>(ctx: CliContext, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const { Admin } = await import('../index.ts');
  const admin = new Admin({ bootstrapServers: ctx.bootstrapServers, requestTimeoutMs: ctx.requestTimeoutMs, logger: cliLogger() });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

export async function openProducer(
  ctx: CliContext,
  options: Omit<ProducerOptions<ProducerValue, ProducerValue>, 'bootstrapServers' | 'requestTimeoutMs'>,
): Promise<Producer<ProducerValue, ProducerValue>> {
  const { Producer } = await import('../index.ts');
  const producer = new Producer<ProducerValue, ProducerValue>({ logger: cliLogger(), ...options, bootstrapServers: ctx.bootstrapServers, requestTimeoutMs: ctx.requestTimeoutMs });
  try {
    await producer.connect();
  } catch (err) {
    await producer.close({ timeoutMs: 0 });
    throw err;
  }
  return producer;
}

export async function openConsumer(
  ctx: CliContext,
  options: Omit<ConsumerOptions<Buffer | null, Buffer | null>, 'bootstrapServers' | 'requestTimeoutMs'> = {},
): Promise<Consumer<Buffer | null, Buffer | null>> {
  const { Consumer } = await import('../index.ts');
  const consumer = new Consumer<Buffer | null, Buffer | null>({
    keyDeserializer: 'buffer',
    valueDeserializer: 'buffer',
    logger: cliLogger(),
    ...options,
    bootstrapServers: ctx.bootstrapServers,
    requestTimeoutMs: ctx.requestTimeoutMs,
  });
  try {
    await consumer.connect();
  } catch (err) {
    await consumer.close();
    throw err;
  }
  return consumer;
}

/**
 * The topic's partition count from the brokers' metadata, or UNKNOWN_TOPIC_OR_PARTITION at
 * once. The producer and consumer would wait for a missing topic to appear (as Kafka's do, up to
 * max.block.ms), which for a command line reads as a hang.
 */
export async function requireTopic(admin: Admin, topic: string): Promise<number> {
  const snapshot = await admin.metadata([topic]);
  const found = snapshot.topics.find((t) => t.name === topic);
  if (!found || found.error?.code === 'UNKNOWN_TOPIC_OR_PARTITION') {
    throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${topic}" does not exist`, { topic });
  }
  if (found.error) throw new SluiceError(found.error.code, `topic "${topic}": ${found.error.message}`, { topic });
  return found.partitions.length;
}

/** A partition flag checked against the topic: a typo should not wait for a partition that will never exist. */
export function requirePartition(topic: string, partition: number, partitions: number): void {
  if (partition >= partitions) {
    throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION',
      `topic "${topic}" has ${partitions} partition${partitions === 1 ? '' : 's'} (0-${partitions - 1}); there is no partition ${partition}`,
      { topic, partition });
  }
}
