import { describe, expect, it } from 'vitest';
import { createCliLogger, formatCliLogLine } from './cli-logger.ts';

describe('the CLI logger', () => {
  it('writes one plain line per warning with the useful context, not JSON', () => {
    const lines: string[] = [];
    const logger = createCliLogger((t) => lines.push(t), 'warn');
    logger.warn({ topic: 'orders', partition: 3, code: 'NOT_LEADER', clientId: 'x', err: new Error('broker 2 is gone') }, 'produce failed; retrying');
    logger.info({ topic: 'orders' }, 'connected');
    expect(lines).toEqual(['sluice: warn: produce failed; retrying [topic=orders partition=3 code=NOT_LEADER error=broker 2 is gone]\n']);
  });

  it('shows info lines when asked for them, and passes through what is not JSON', () => {
    const lines: string[] = [];
    createCliLogger((t) => lines.push(t), 'info').info('metadata refreshed');
    expect(lines).toEqual(['sluice: info: metadata refreshed\n']);
    expect(formatCliLogLine('not json\n')).toBe('sluice: not json\n');
  });
});
