import { describe, expect, it } from 'vitest';
import { ProducerIdManager, type ProducerIdBlock } from './producer-id-manager.ts';

describe('ProducerIdManager', () => {
  it('serves ids one by one and fetches the next block only when the current one is used up', async () => {
    const blocks: ProducerIdBlock[] = [{ firstProducerId: 1000, count: 2 }, { firstProducerId: 5000, count: 2 }];
    let fetches = 0;
    const m = new ProducerIdManager(async () => blocks[fetches++]!);
    expect(await m.nextProducerId()).toBe(1000);
    expect(await m.nextProducerId()).toBe(1001);
    expect(fetches).toBe(1);
    expect(await m.nextProducerId()).toBe(5000);
    expect(fetches).toBe(2);
  });

  it('shares one block fetch between concurrent callers and gives each a distinct id', async () => {
    let fetches = 0;
    const m = new ProducerIdManager(async () => {
      fetches++;
      await new Promise((r) => setTimeout(r, 5));
      return { firstProducerId: 10 * fetches, count: 3 };
    });
    const ids = await Promise.all([1, 2, 3, 4, 5].map(() => m.nextProducerId()));
    expect(new Set(ids).size).toBe(5);
    expect(fetches).toBe(2);
  });

  it('surfaces a failed fetch and recovers on the next call', async () => {
    let fail = true;
    const m = new ProducerIdManager(async () => {
      if (fail) throw new Error('controller down');
      return { firstProducerId: 7, count: 1 };
    });
    await expect(m.nextProducerId()).rejects.toThrow('controller down');
    fail = false;
    expect(await m.nextProducerId()).toBe(7);
  });

  it('refuses a block that would repeat ids already served', async () => {
    const blocks = [{ firstProducerId: 100, count: 1 }, { firstProducerId: 50, count: 10 }];
    let i = 0;
    const m = new ProducerIdManager(async () => blocks[i++]!);
    expect(await m.nextProducerId()).toBe(100);
    await expect(m.nextProducerId()).rejects.toThrow(/below ids already served/);
  });
});
