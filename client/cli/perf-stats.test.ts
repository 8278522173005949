import { describe, expect, it } from 'vitest';
import {
  CONSUMER_PERF_HEADER,
  ProducerPerfStats,
  formatConsumerPerf,
  formatKafkaTime,
  formatProducerTotal,
  formatProducerWindow,
  percentile,
  throttleDelayMs,
} from './perf-stats.ts';

function clock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

describe('ProducerPerfStats', () => {
  it('closes a window once the interval has passed, with that window\'s numbers only', () => {
    const c = clock();
    const stats = new ProducerPerfStats(10, { reportingIntervalMs: 1_000, now: c.now });
    c.advance(400);
    expect(stats.record(10, 1024)).toBeNull();
    c.advance(600);
    const w = stats.record(30, 1024);
    expect(w).toEqual({ count: 2, recordsPerSec: 2, mbPerSec: 2048 / 1024 / 1024, avgLatencyMs: 20, maxLatencyMs: 30 });
    c.advance(500);
    expect(stats.record(5, 1024)).toBeNull();
    c.advance(500);
    expect(stats.record(7, 1024)).toMatchObject({ count: 2, avgLatencyMs: 6, maxLatencyMs: 7 });
  });

  it('totals over the run with Kafka\'s percentiles', () => {
    const c = clock();
    const stats = new ProducerPerfStats(1000, { reportingIntervalMs: 1e9, now: c.now });
    for (let i = 1; i <= 1000; i++) stats.record(i, 100);
    c.advance(2_000);
    const t = stats.totals();
    expect(t).toMatchObject({ count: 1000, bytes: 100_000, elapsedMs: 2000, recordsPerSec: 500, avgLatencyMs: 500.5, maxLatencyMs: 1000 });
    expect([t.p50Ms, t.p95Ms, t.p99Ms, t.p999Ms]).toEqual([501, 951, 991, 1000]);
  });

  it('samples latencies evenly when there are more records than samples kept', () => {
    const c = clock();
    const n = 1_500_000;
    const stats = new ProducerPerfStats(n, { reportingIntervalMs: 1e12, now: c.now });
    for (let i = 0; i < n; i++) stats.record(i < n / 2 ? 1 : 9, 1);
    c.advance(1);
    const t = stats.totals();
    expect(t.p50Ms).toBe(9);
    expect(t.p95Ms).toBe(9);
    expect(percentile([], 0.5)).toBe(0);
  });
});

describe('Kafka output formats', () => {
  it('prints producer windows and totals as kafka-producer-perf-test does', () => {
    expect(formatProducerWindow({ count: 52_345, recordsPerSec: 10_469, mbPerSec: 10.2236, avgLatencyMs: 2.34, maxLatencyMs: 45 }))
      .toBe('52345 records sent, 10469.0 records/sec (10.22 MB/sec), 2.3 ms avg latency, 45.0 ms max latency.');
    expect(formatProducerTotal({
      count: 100_000, bytes: 102_400_000, elapsedMs: 9_000, recordsPerSec: 11111.111111111, mbPerSec: 10.8507,
      avgLatencyMs: 3.456, maxLatencyMs: 120, p50Ms: 2.4, p95Ms: 7.6, p99Ms: 15, p999Ms: 98,
    })).toBe('100000 records sent, 11111.111111 records/sec (10.85 MB/sec), 3.46 ms avg latency, 120.00 ms max latency, 2 ms 50th, 8 ms 95th, 15 ms 99th, 98 ms 99.9th.');
  });

  it('prints consumer results as kafka-consumer-perf-test does', () => {
    expect(CONSUMER_PERF_HEADER.split(', ')).toHaveLength(10);
    const start = Date.UTC(2025, 0, 31, 12, 0, 0, 5);
    const line = formatConsumerPerf({ startMs: start, endMs: start + 4_000, bytes: 100 * 1024 * 1024, messages: 102_400, rebalanceMs: 1_000 }, 0);
    expect(line).toBe('2025-01-31 12:00:00:005, 2025-01-31 12:00:04:005, 100.0000, 25.0000, 102400, 25600.0000, 1000, 3000, 33.3333, 34133.3333');
    expect(formatKafkaTime(start, 60)).toBe('2025-01-31 13:00:00:005');
  });
});

describe('throttleDelayMs', () => {
  it('waits only when ahead of the target rate by a sleep worth taking', () => {
    expect(throttleDelayMs(500, 100, -1)).toBe(0);
    expect(throttleDelayMs(500, 100, 1000)).toBe(400);
    expect(throttleDelayMs(101, 100, 1000)).toBe(0);
    expect(throttleDelayMs(100, 200, 1000)).toBe(0);
    // 100k records/s: each record is due 10 µs after the last; sleep once 2 ms of lead add up.
    expect(throttleDelayMs(150, 1, 100_000)).toBe(0);
    expect(throttleDelayMs(400, 1, 100_000)).toBe(3);
  });
});
