// Producer ids for the idempotent producer (DESIGN §5). The controller hands out blocks that
// are unique cluster-wide and across its restarts (Kafka's KIP-730); the broker serves single
// ids from its current block and asks for the next block only when this one is used up.
import { SluiceError } from '../common/errors.ts';

export interface ProducerIdBlock {
  firstProducerId: number;
  count: number;
}

export type ProducerIdBlockSource = () => Promise<ProducerIdBlock>;

export class ProducerIdManager {
  readonly #fetchBlock: ProducerIdBlockSource;
  #next = 0;
  #end = 0;
  // Concurrent callers that find the block empty share one controller round trip.
  #pending: Promise<void> | undefined;

  constructor(fetchBlock: ProducerIdBlockSource) {
    this.#fetchBlock = fetchBlock;
  }

  async nextProducerId(): Promise<number> {
    for (;;) {
      if (this.#next < this.#end) return this.#next++;
      this.#pending ??= this.#refill().finally(() => {
        this.#pending = undefined;
      });
      await this.#pending;
    }
  }

  async #refill(): Promise<void> {
    const block = await this.#fetchBlock();
    if (!Number.isSafeInteger(block.firstProducerId) || block.firstProducerId < 0 || !Number.isSafeInteger(block.count) || block.count <= 0) {
      throw new SluiceError('UNKNOWN', `the controller returned an unusable producer id block (first ${block.firstProducerId}, count ${block.count})`);
    }
    // A block older than the ids already served would hand out duplicates: refuse it rather
    // than break idempotence for two producers sharing an id.
    if (block.firstProducerId < this.#end) {
      throw new SluiceError('UNKNOWN', `the controller returned producer id block starting at ${block.firstProducerId}, below ids already served (up to ${this.#end - 1})`);
    }
    this.#next = block.firstProducerId;
    this.#end = block.firstProducerId + block.count;
  }
}
