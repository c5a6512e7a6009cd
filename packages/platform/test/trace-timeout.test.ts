/** Small shared helpers services used to copy: trace context, timeouts, Prisma error kinds. */
import { PrismaClientKnownRequestError } from '@prisma/client/runtime/client';
import { TRACEPARENT, validTraceparent, withTimeout } from '@quizmesh/platform';
import { isRecordNotFound, isUniqueViolation } from '@quizmesh/platform/db';

const VALID = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('trace context', () => {
  it('accepts a W3C traceparent, normalised to lower case', () => {
    expect(TRACEPARENT.test(VALID)).toBe(true);
    expect(validTraceparent(` ${VALID.toUpperCase()} `)).toBe(VALID);
  });

  it.each([undefined, '', 'garbage', VALID.slice(1), `${VALID}-00`, VALID.replace('0af7', 'zzzz')])(
    'refuses %p',
    (value) => {
      expect(validTraceparent(value)).toBeUndefined();
    },
  );
});

describe('withTimeout', () => {
  it('resolves with the value when it comes first', async () => {
    await expect(withTimeout(Promise.resolve(7), 1_000)).resolves.toBe(7);
  });

  it('rejects with the given message when the deadline comes first', async () => {
    await expect(withTimeout(new Promise(() => undefined), 5, 'no answer within 5 ms')).rejects.toThrow(
      'no answer within 5 ms',
    );
  });
});

describe('Prisma error kinds', () => {
  const prismaError = (code: string) => new PrismaClientKnownRequestError('failed', { code, clientVersion: '7.10.0' });

  it('tells a unique violation (P2002) and a missing record (P2025) apart', () => {
    expect(isUniqueViolation(prismaError('P2002'))).toBe(true);
    expect(isUniqueViolation(prismaError('P2025'))).toBe(false);
    expect(isRecordNotFound(prismaError('P2025'))).toBe(true);
    expect(isRecordNotFound(prismaError('P2002'))).toBe(false);
  });

  it('is false for anything that is not a Prisma error', () => {
    expect(isUniqueViolation(Object.assign(new Error('x'), { code: 'P2002' }))).toBe(false);
    expect(isRecordNotFound(undefined)).toBe(false);
  });
});
