import { AppError, decodeCursor, encodeCursor } from '../src';

const ID = '0b6f7c1e-3a52-4d8e-9f10-2c3d4e5f6a7b';
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('keyset cursor', () => {
  it('round-trips the position of a row', () => {
    const at = new Date('2026-12-06T01:02:03.456Z');
    expect(decodeCursor(encodeCursor({ at, id: ID }))).toEqual({ at, id: ID });
  });

  it.each([
    ['year -271821 (the earliest JavaScript date)', b64(`-271821-04-20T00:00:00.000Z|${ID}`)],
    ['year 0000 (PostgreSQL has no year 0)', b64(`0000-01-01T00:00:00.000Z|${ID}`)],
    ['year +275760', b64(`+275760-09-13T00:00:00.000Z|${ID}`)],
    ['a 36-dash "uuid"', b64(`2026-12-06T01:02:03.456Z|${'-'.repeat(36)}`)],
    ['an upper-case uuid', b64(`2026-12-06T01:02:03.456Z|${ID.toUpperCase()}`)],
    ['a non-canonical time', b64(`2026-12-06|${ID}`)],
    ['a third part', b64(`2026-12-06T01:02:03.456Z|${ID}|x`)],
    ['characters outside base64url', 'a+b/c='],
    ['an empty cursor', ''],
    ['an overlong cursor', 'A'.repeat(201)],
  ])('refuses %s with a 400 naming the field', (_name, cursor) => {
    let error: unknown;
    try {
      decodeCursor(cursor, 'query.cursor');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(400);
    expect((error as AppError).errors).toEqual([{ field: 'query.cursor', message: expect.any(String) }]);
  });
});
