// CRC-32C (Castagnoli), the checksum of Kafka RecordBatch v2. The native implementation uses
// SSE4.2/ARMv8 CRC instructions, which is what keeps validating every produced batch on the
// broker cheap enough to do unconditionally.
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C of buf[start, end), as an unsigned 32-bit integer. */
export function crc32c(buf: Buffer, start = 0, end = buf.length): number {
  const input = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
  // The binding returns a JS number; `>>> 0` pins it to the unsigned range that the batch
  // header stores, so comparisons with readUInt32BE never trip over a sign.
  return nativeCrc32c(input) >>> 0;
}
