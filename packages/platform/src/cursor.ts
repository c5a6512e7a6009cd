/**
 * The one keyset-pagination cursor: the (timestamp, UUID) of the last row of a page, opaque to
 * clients (base64url of `<ISO time>|<uuid>`). Decoding validates everything the database would
 * otherwise reject with an error (a forged cursor is a 400, never a 500): the time must be the
 * canonical ISO form of an instant PostgreSQL's timestamp can hold and the id a canonical UUID.
 */
import { AppError } from './errors';

export interface KeysetCursor {
  at: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64URL = /^[A-Za-z0-9_-]{1,200}$/;
// Years 1 to 9999: JavaScript dates reach year -271821, PostgreSQL's timestamp has no year 0
// and refuses years far out of range (22008); no page of ours starts outside these.
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

export function encodeCursor(cursor: KeysetCursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`, 'utf8').toString('base64url');
}

/** The cursor's position, or a 400 naming `field` when it is not one `encodeCursor` made. */
export function decodeCursor(cursor: string, field = 'query.cursor'): KeysetCursor {
  const decoded = BASE64URL.test(cursor) ? parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  if (!decoded) {
    const message = 'must be the nextCursor of a previous page';
    throw AppError.badRequest(`${field}: ${message}`, [{ field, message }]);
  }
  return decoded;
}

function parse(text: string): KeysetCursor | undefined {
  const parts = text.split('|');
  if (parts.length !== 2) return undefined;
  const [iso = '', id = ''] = parts;
  const at = new Date(iso);
  const time = at.getTime();
  if (Number.isNaN(time) || time < EARLIEST || time > LATEST || at.toISOString() !== iso) return undefined;
  if (!UUID.test(id)) return undefined;
  return { at, id };
}
