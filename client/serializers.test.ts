import { describe, expect, it } from 'vitest';
import { deserializers, resolveDeserializer, resolveSerializer, serializers } from './serializers.ts';

describe('serializers', () => {
  it('pass Buffers through without copying and take strings as UTF-8', () => {
    const buf = Buffer.from('x');
    const bytes = serializers.buffer();
    expect(bytes(buf, 't')).toBe(buf);
    expect(bytes('héllo', 't')!.toString('utf8')).toBe('héllo');
    expect(bytes(null, 't')).toBeNull();
    expect(bytes(new Uint8Array([1, 2]), 't')).toEqual(Buffer.from([1, 2]));
    expect(() => bytes(5 as never, 'orders')).toThrow(/topic "orders" has a number where bytes were expected/);
  });

  it('round-trip strings and JSON, keeping null as null (tombstones)', () => {
    expect(deserializers.string()(serializers.string()('ü', 't'), 't')).toBe('ü');
    expect(deserializers.json()(serializers.json()({ a: [1, 'b'] }, 't'), 't')).toEqual({ a: [1, 'b'] });
    expect(serializers.json()(null, 't')).toBeNull();
    expect(deserializers.json()(null, 't')).toBeNull();
    expect(() => serializers.string()(3 as never, 't')).toThrow(/string serializer got a number/);
  });

  it('reports undecodable JSON as CORRUPT_MESSAGE naming the topic', () => {
    expect(() => deserializers.json()(Buffer.from('{nope'), 'events')).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }));
  });

  it('resolves names and functions, defaulting to bytes', () => {
    const own = (v: unknown) => Buffer.from(String(v));
    expect(resolveSerializer(own)).toBe(own);
    expect(resolveSerializer(undefined)('s', 't')).toEqual(Buffer.from('s'));
    expect(resolveDeserializer('string')(Buffer.from('s'), 't')).toBe('s');
    expect(resolveDeserializer(undefined)(Buffer.from('s'), 't')).toEqual(Buffer.from('s'));
  });
});
