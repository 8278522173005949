// Reusable buffers for encoding full record batches, as Kafka's producer has its BufferPool.
// A fresh 256 KiB buffer per batch costs page faults to touch new memory, and V8 counts each
// one as external memory: every few tens of MiB of it trigger a young-generation GC, and each
// of those copies every record still in flight. Measured on the produce benchmark, those GCs
// were the largest single cost of the producer (bench/README.md).

/**
 * Only batches that fill at least half a buffer take one, so a trickle of small lingered
 * batches never holds a large buffer each; those get right-sized allocations as before.
 */
export class BatchBufferPool {
  /** Bytes of each pooled buffer: a full batch plus room for the request framing in front. */
  readonly bufferSize: number;
  private readonly maxFree: number;
  private readonly free: Buffer[] = [];

  constructor(bufferSize: number, maxFreeBytes: number) {
    this.bufferSize = bufferSize;
    this.maxFree = Math.floor(maxFreeBytes / bufferSize);
  }

  /** A buffer for `bytes` of batch and framing, or undefined when a pooled one would not fit it or be mostly empty. */
  take(bytes: number): Buffer | undefined {
    if (this.maxFree === 0 || bytes > this.bufferSize || bytes * 2 < this.bufferSize) return undefined;
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.bufferSize);
  }

  /**
   * Returns a buffer from take(). The caller guarantees nothing reads it any more: for a sent
   * batch that means the broker acknowledged it (grpc-js framed and wrote it long before).
   */
  give(buffer: Buffer): void {
    if (buffer.length === this.bufferSize && this.free.length < this.maxFree) this.free.push(buffer);
  }

  get freeCount(): number {
    return this.free.length;
  }

  /** Lets the GC have the free buffers (an idle producer should not hold memory). */
  clear(): void {
    this.free.length = 0;
  }
}
