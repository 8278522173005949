// Turning application keys and values into record bytes and back. A serializer runs once per
// record on the producer's hot path, so the built-ins avoid copies: a Buffer passes through as
// is, and the bytes a consumer gets are views into the fetched batch.
import { SluiceError } from '../common/errors.ts';

export type Serializer<T> = (data: T, topic: string) => Buffer | null;
export type Deserializer<T> = (data: Buffer | null, topic: string) => T;

/** Bytes as bytes. Strings are taken as UTF-8 so `send({ value: 'hello' })` just works. */
export type RawData = Buffer | Uint8Array | string | null | undefined;

function toBuffer(data: RawData, topic: string): Buffer | null {
  if (data === null || data === undefined) return null;
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new SluiceError(
    'INVALID_REQUEST',
    `a record for topic "${topic}" has a ${typeof data} where bytes were expected; pass a Buffer or a string, or configure a serializer (for example serializers.json)`,
  );
}

export const serializers = {
  buffer: (): Serializer<RawData> => toBuffer,
  string: (): Serializer<string | null | undefined> => (data, topic) => {
    if (data === null || data === undefined) return null;
    if (typeof data !== 'string') {
      throw new SluiceError('INVALID_REQUEST', `the string serializer got a ${typeof data} for topic "${topic}"; pass a string or use serializers.json`);
    }
    return Buffer.from(data, 'utf8');
  },
  /** `null`/`undefined` stay null so tombstones (null values) can be sent with a JSON producer. */
  json: (): Serializer<unknown> => (data) => (data === null || data === undefined ? null : Buffer.from(JSON.stringify(data), 'utf8')),
};

export const deserializers = {
  buffer: (): Deserializer<Buffer | null> => (data) => data,
  string: (): Deserializer<string | null> => (data) => (data === null ? null : data.toString('utf8')),
  json: (): Deserializer<unknown> => (data, topic) => {
    if (data === null) return null;
    try {
      return JSON.parse(data.toString('utf8'));
    } catch (err) {
      throw new SluiceError('CORRUPT_MESSAGE', `a record of topic "${topic}" is not valid JSON (${(err as Error).message}); consume it with the buffer deserializer`, { topic }, { cause: err });
    }
  },
};

export type SerializerName = keyof typeof serializers;

export function resolveSerializer(spec: SerializerName | Serializer<never> | undefined): Serializer<unknown> {
  if (typeof spec === 'function') return spec as Serializer<unknown>;
  return serializers[spec ?? 'buffer']() as Serializer<unknown>;
}

export function resolveDeserializer(spec: SerializerName | Deserializer<unknown> | undefined): Deserializer<unknown> {
  if (typeof spec === 'function') return spec;
  return deserializers[spec ?? 'buffer']();
}
