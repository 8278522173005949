// Statistics and output of `sluice perf`, in the formats of Kafka's kafka-producer-perf-test and
// kafka-consumer-perf-test, so numbers can be compared side by side and the same scripts parse
// both. As in Kafka, "MB" means MiB (1024 * 1024 bytes).

const MIB = 1024 * 1024;
/** Kafka keeps at most this many latency samples, spread evenly over the run. */
const MAX_LATENCY_SAMPLES = 500_000;

export interface ProducerWindow {
  count: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
}

export interface ProducerTotals extends ProducerWindow {
  elapsedMs: number;
  bytes: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
}

/** ProducerPerformance.Stats: totals over the run, plus a window printed every interval. */
export class ProducerPerfStats {
  private readonly now: () => number;
  private readonly reportingIntervalMs: number;
  private readonly sampling: number;
  private readonly samples: Float64Array;
  private sampleCount = 0;
  private iteration = 0;
  private readonly start: number;
  private count = 0;
  private bytes = 0;
  private totalLatency = 0;
  private maxLatency = 0;
  private windowStart: number;
  private windowCount = 0;
  private windowBytes = 0;
  private windowTotalLatency = 0;
  private windowMaxLatency = 0;

  constructor(numRecords: number, options: { reportingIntervalMs?: number; now?: () => number } = {}) {
    this.now = options.now ?? (() => performance.now());
    this.reportingIntervalMs = options.reportingIntervalMs ?? 5_000;
    this.sampling = Math.max(1, Math.floor(numRecords / Math.min(Math.max(numRecords, 1), MAX_LATENCY_SAMPLES)));
    this.samples = new Float64Array(Math.ceil(Math.max(numRecords, 1) / this.sampling));
    this.start = this.now();
    this.windowStart = this.start;
  }

  /** One acknowledged record. Returns the finished window when the interval has passed. */
  record(latencyMs: number, bytes: number): ProducerWindow | null {
    this.count++;
    this.bytes += bytes;
    this.totalLatency += latencyMs;
    this.maxLatency = Math.max(this.maxLatency, latencyMs);
    this.windowCount++;
    this.windowBytes += bytes;
    this.windowTotalLatency += latencyMs;
    this.windowMaxLatency = Math.max(this.windowMaxLatency, latencyMs);
    if (this.iteration % this.sampling === 0 && this.sampleCount < this.samples.length) {
      this.samples[this.sampleCount++] = latencyMs;
    }
    this.iteration++;
    const now = this.now();
    if (now - this.windowStart < this.reportingIntervalMs) return null;
    const elapsed = Math.max(now - this.windowStart, 1e-3);
    const window: ProducerWindow = {
      count: this.windowCount,
      recordsPerSec: (1000 * this.windowCount) / elapsed,
      mbPerSec: (1000 * this.windowBytes) / elapsed / MIB,
      avgLatencyMs: this.windowTotalLatency / this.windowCount,
      maxLatencyMs: this.windowMaxLatency,
    };
    this.windowStart = now;
    this.windowCount = 0;
    this.windowBytes = 0;
    this.windowTotalLatency = 0;
    this.windowMaxLatency = 0;
    return window;
  }

  totals(): ProducerTotals {
    const elapsedMs = Math.max(this.now() - this.start, 1e-3);
    const sorted = this.samples.slice(0, this.sampleCount).sort();
    return {
      count: this.count,
      bytes: this.bytes,
      elapsedMs,
      recordsPerSec: (1000 * this.count) / elapsedMs,
      mbPerSec: (1000 * this.bytes) / elapsedMs / MIB,
      avgLatencyMs: this.count > 0 ? this.totalLatency / this.count : 0,
      maxLatencyMs: this.maxLatency,
      p50Ms: percentile(sorted, 0.5),
      p95Ms: percentile(sorted, 0.95),
      p99Ms: percentile(sorted, 0.99),
      p999Ms: percentile(sorted, 0.999),
    };
  }
}

/** Kafka's nearest-rank rule: sorted[floor(p * n)]. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

export function formatProducerWindow(w: ProducerWindow): string {
  return `${w.count} records sent, ${w.recordsPerSec.toFixed(1)} records/sec (${w.mbPerSec.toFixed(2)} MB/sec), ` +
    `${w.avgLatencyMs.toFixed(1)} ms avg latency, ${w.maxLatencyMs.toFixed(1)} ms max latency.`;
}

// Kafka's latencies are whole milliseconds (differences of currentTimeMillis); rounding ours
// keeps its percentile columns integral, as scripts written for Kafka expect.
export function formatProducerTotal(t: ProducerTotals): string {
  return `${t.count} records sent, ${t.recordsPerSec.toFixed(6)} records/sec (${t.mbPerSec.toFixed(2)} MB/sec), ` +
    `${t.avgLatencyMs.toFixed(2)} ms avg latency, ${t.maxLatencyMs.toFixed(2)} ms max latency, ` +
    `${Math.round(t.p50Ms)} ms 50th, ${Math.round(t.p95Ms)} ms 95th, ${Math.round(t.p99Ms)} ms 99th, ${Math.round(t.p999Ms)} ms 99.9th.`;
}

/** Kafka's ThroughputThrottler.MIN_SLEEP_NS: shorter sleeps cost more than they regulate. */
const MIN_THROTTLE_SLEEP_MS = 2;

/**
 * Kafka's ThroughputThrottler as a pure rule: how long to wait before sending record number
 * `sent` (0-based) so the rate stays at `recordsPerSec`. A non-positive target means no limit.
 * Small leads are let run until they add up to a sleep worth taking (a timer cannot sleep for
 * the 10 µs that 100k records/s allots each record).
 */
export function throttleDelayMs(sent: number, elapsedMs: number, recordsPerSec: number): number {
  if (recordsPerSec <= 0) return 0;
  const ahead = (sent * 1000) / recordsPerSec - elapsedMs;
  return ahead >= MIN_THROTTLE_SLEEP_MS ? ahead : 0;
}

export interface ConsumerPerfResult {
  startMs: number;
  endMs: number;
  bytes: number;
  messages: number;
  /** Time spent before the first fetch (Kafka: group join); 0 when partitions are assigned. */
  rebalanceMs: number;
}

export const CONSUMER_PERF_HEADER =
  'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec';

export function consumerPerfFields(r: ConsumerPerfResult): {
  mb: number; mbPerSec: number; nMsgPerSec: number; fetchMs: number; fetchMbPerSec: number; fetchNMsgPerSec: number;
} {
  const elapsedSec = Math.max(r.endMs - r.startMs, 1) / 1000;
  const fetchMs = Math.max(r.endMs - r.startMs - r.rebalanceMs, 1);
  const mb = r.bytes / MIB;
  return {
    mb,
    mbPerSec: mb / elapsedSec,
    nMsgPerSec: r.messages / elapsedSec,
    fetchMs,
    fetchMbPerSec: mb / (fetchMs / 1000),
    fetchNMsgPerSec: r.messages / (fetchMs / 1000),
  };
}

export function formatConsumerPerf(r: ConsumerPerfResult, timeZoneOffsetMinutes?: number): string {
  const f = consumerPerfFields(r);
  return [
    formatKafkaTime(r.startMs, timeZoneOffsetMinutes),
    formatKafkaTime(r.endMs, timeZoneOffsetMinutes),
    f.mb.toFixed(4),
    f.mbPerSec.toFixed(4),
    String(r.messages),
    f.nMsgPerSec.toFixed(4),
    String(Math.round(r.rebalanceMs)),
    String(Math.round(f.fetchMs)),
    f.fetchMbPerSec.toFixed(4),
    f.fetchNMsgPerSec.toFixed(4),
  ].join(', ');
}

/** `yyyy-MM-dd HH:mm:ss:SSS` in local time, the date format of kafka-consumer-perf-test. */
export function formatKafkaTime(ms: number, timeZoneOffsetMinutes = -new Date(ms).getTimezoneOffset()): string {
  const d = new Date(ms + timeZoneOffsetMinutes * 60_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}:${p(d.getUTCMilliseconds(), 3)}`;
}
