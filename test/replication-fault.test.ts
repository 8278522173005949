// DESIGN §12 under faults: three brokers, RF=3, min.insync.replicas=2, idempotent acks=all
// producers and consumers running while leaders are SIGKILLed over and over, a follower is
// SIGSTOPped past the replica lag time and the controller is restarted. The recorded history must
// show no lost acknowledged record, one record per (partition, offset), no duplicate, no consumer
// read above HW or of a changed record, no reused leader epoch, no leader from outside the
// committed ISR — and the run must really have done what it claims (the exercise checks below),
// or a cluster that refused every write would pass.
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { useTestCluster } from './support/cluster.ts';
import { DEFAULT_FAULT_SCENARIO, describeRun, faultClusterOptions, runFaultScenario, type FaultRunResult } from './support/fault-driver.ts';
import { checkHistory, formatReport } from './support/history-checker.ts';

const SCENARIO = DEFAULT_FAULT_SCENARIO;
// The driver bounds itself to timeBudgetMs (wind-down included); the margin covers closing its
// clients and saving the history. Starting and stopping the cluster have their own hook bounds.
const TEST_TIMEOUT_MS = SCENARIO.timeBudgetMs + 30_000;
// At 3 × 100 records/s over the ~2 minutes the faults take, a healthy run acknowledges tens of
// thousands; a few thousand means writes were refused most of the time.
const MIN_ACKS = 5_000;

const getCluster = useTestCluster(faultClusterOptions(SCENARIO));

it(
  `keeps every acknowledged record, once, in place, through ${SCENARIO.leaderKills} leader kills, a follower pause and a controller restart`,
  async () => {
    const cluster = getCluster();
    const historyFile = path.join(cluster.dataDir, 'fault-history.jsonl');
    let run: FaultRunResult;
    try {
      run = await runFaultScenario(cluster, { ...SCENARIO, historyFile });
    } catch (err) {
      console.error(`the fault run stopped with an error; the history so far is in ${historyFile}`);
      throw err;
    }
    const result = checkHistory(run.events);
    // Printed on success too, so CI output shows what was checked and what the run went through.
    console.log(`${formatReport(result)}\n${describeRun(run)}`);
    if (!result.ok || run.problems.length > 0) {
      console.error(`history saved to ${historyFile}; re-check it with checkHistory(HistoryRecorder.load(file).events)`);
    }

    // The first few name what broke; the report above has every kind with its evidence.
    const firstViolations = result.violations.slice(0, 20).map((v) => `${v.kind}: ${v.message}`);
    expect(firstViolations, `${result.violations.length} history violations (evidence in the report above)`).toEqual([]);
    expect(run.problems, 'waits that ran out, corrupt batches, library-consumer mismatches (see the timeline above)').toEqual([]);

    const c = result.counts;
    expect(c.faultsByKind.kill, 'leader SIGKILLs injected').toBeGreaterThanOrEqual(SCENARIO.leaderKills);
    expect(c.faultsByKind.pause, 'follower SIGSTOPs injected').toBeGreaterThanOrEqual(1);
    expect(c.faultsByKind['restart-controller'], 'controller restarts injected').toBeGreaterThanOrEqual(1);
    // Each kill of a leader forces an election; both the controller's election log lines and the
    // sampled committed state must have seen them, or the epoch and ISR checks judged nothing.
    expect(c.elections, 'elections read from the controller log').toBeGreaterThanOrEqual(SCENARIO.leaderKills);
    expect(run.leaderChanges, 'leader changes in the sampled controller state').toBeGreaterThanOrEqual(SCENARIO.leaderKills);
    expect(c.acks, 'acknowledged sends').toBeGreaterThanOrEqual(MIN_ACKS);
    // The raw consumers caught up with the end of every partition (a problem otherwise), so each
    // read everything committed.
    expect(c.reads, 'records read by the raw consumers').toBeGreaterThanOrEqual(SCENARIO.rawConsumers * c.acks);
    expect(c.finalRecords, 'records in the final read').toBeGreaterThanOrEqual(c.acks);
  },
  TEST_TIMEOUT_MS,
);
