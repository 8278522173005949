// Field checks of client requests, done before any partition is touched, with messages that
// say which field to change. Malformed requests are INVALID_REQUEST (gRPC INVALID_ARGUMENT).
import { SluiceError } from '../../common/errors.ts';
import type { ProduceRequest__Output } from '../../proto/gen/sluice/v1/ProduceRequest.ts';
import type { AcksMode } from '../replica-manager.ts';

/** ProduceRequest.timeout_ms = 0. */
export const DEFAULT_PRODUCE_TIMEOUT_MS = 30_000;

function invalid(message: string, topic?: string, partition?: number): SluiceError {
  return new SluiceError('INVALID_REQUEST', message, topic === undefined ? {} : { topic, partition });
}

export function checkTopicPartition(what: string, topic: string, partition: number): SluiceError | null {
  if (!topic) return invalid(`${what}.topic is empty; set it to the topic name`);
  if (!Number.isInteger(partition) || partition < 0) return invalid(`${what}.partition is ${partition}; partitions are numbered from 0`, topic, partition);
  return null;
}

export function checkNonNegative(what: string, value: number, topic?: string, partition?: number): SluiceError | null {
  if (!Number.isFinite(value) || value < 0) return invalid(`${what} is ${value}; it must be >= 0`, topic, partition);
  return null;
}

/** acks from the wire; UNSPECIFIED is ALL, the safe default (Kafka 3.0+). */
export function acksOf(acks: unknown): AcksMode | null {
  switch (acks) {
    case 'ACKS_UNSPECIFIED':
    case 'ACKS_ALL':
      return 'all';
    case 'ACKS_LEADER':
      return 'leader';
    case 'ACKS_NONE':
      return 'none';
    default:
      return null;
  }
}

export interface CheckedProduce {
  acks: AcksMode;
  timeoutMs: number;
}

/** The produce request's acks and timeout, or the error to answer it with. */
export function checkProduceRequest(req: ProduceRequest__Output): CheckedProduce | SluiceError {
  const tp = checkTopicPartition('ProduceRequest', req.topic, req.partition);
  if (tp) return tp;
  const { topic, partition } = req;
  if (req.records.length === 0) return invalid('ProduceRequest.records is empty; send at least one record batch', topic, partition);
  const acks = acksOf(req.acks);
  if (acks === null) return invalid(`ProduceRequest.acks is ${String(req.acks)}; use ACKS_NONE, ACKS_LEADER or ACKS_ALL`, topic, partition);
  const timeout = checkNonNegative('ProduceRequest.timeout_ms', req.timeout_ms, topic, partition);
  if (timeout) return timeout;
  return { acks, timeoutMs: req.timeout_ms === 0 ? DEFAULT_PRODUCE_TIMEOUT_MS : req.timeout_ms };
}
