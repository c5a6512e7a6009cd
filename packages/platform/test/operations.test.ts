/** mountOperations: a service's handlers are mounted by operation id from its registration, or the start fails. */
import express, { type RequestHandler } from 'express';
import request from 'supertest';
import type { AppRegistration } from '@quizmesh/contracts/registry';
import { mountOperations } from '../src/operations';

const op = (operationId: string, method: 'get' | 'post', path: string) => ({
  operationId,
  method,
  path,
  summary: operationId,
  access: 'user' as const,
  response: { status: 200 },
  errors: [],
});

const fixture: AppRegistration = {
  appId: 'fixture',
  description: 'fixture',
  operations: [
    op('getThing', 'get', '/api/v1/things/{id}'),
    op('getMine', 'get', '/api/v1/things/mine'),
    op('addThing', 'post', '/api/v1/things'),
  ],
  seedAliases: { 'GET /api/thing/{id}': 'GET /api/v1/things/{id}' },
  consumes: [],
  compensates: [],
  deadLetters: 'log',
};

const answer =
  (name: string): RequestHandler =>
  (req, res) => {
    res.json({ name, params: req.params });
  };
const handlers = { getThing: answer('getThing'), getMine: answer('getMine'), addThing: answer('addThing') };

describe('mountOperations', () => {
  it('mounts each operation at its method and path, literal paths before parameters, and the seed alias with its target handler', async () => {
    const app = express();
    mountOperations(app, fixture, handlers);
    expect((await request(app).get('/api/v1/things/t1')).body).toEqual({ name: 'getThing', params: { id: 't1' } });
    // registered after {id} in the registry, still matched first
    expect((await request(app).get('/api/v1/things/mine')).body).toEqual({ name: 'getMine', params: {} });
    expect((await request(app).post('/api/v1/things')).body).toEqual({ name: 'addThing', params: {} });
    expect((await request(app).get('/api/thing/t2')).body).toEqual({ name: 'getThing', params: { id: 't2' } });
    expect((await request(app).post('/api/v1/things/t1')).status).toBe(404);
  });

  it('refuses to start with a handler missing', () => {
    const { addThing: _missing, ...rest } = handlers;
    expect(() => mountOperations(express(), fixture, rest)).toThrow(
      'fixture: handlers do not match the registry (missing: addThing)',
    );
  });

  it('refuses to start with a handler the registry does not declare', () => {
    expect(() => mountOperations(express(), fixture, { ...handlers, deleteThing: answer('x') })).toThrow(
      'fixture: handlers do not match the registry (not in the registry: deleteThing)',
    );
  });
});
