/** Request validation with zod: failures become 400 problem+json naming the field. */
import type { Request } from 'express';
import type { z } from 'zod';
import { AppError } from './errors';

type Part = 'body' | 'query' | 'params' | 'headers';

export function parse<T extends z.ZodType>(schema: T, value: unknown, where: Part | string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw AppError.fromZod(result.error, where);
  return result.data;
}

export const parseBody = <T extends z.ZodType>(req: Request, schema: T): z.infer<T> => parse(schema, req.body, 'body');
export const parseQuery = <T extends z.ZodType>(req: Request, schema: T): z.infer<T> =>
  parse(schema, req.query, 'query');
export const parseParams = <T extends z.ZodType>(req: Request, schema: T): z.infer<T> =>
  parse(schema, req.params, 'params');
