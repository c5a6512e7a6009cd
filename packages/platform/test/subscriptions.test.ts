/** Subscriptions: what a consumer answers Dapr before its handler runs. Needs no backing service. */
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { z } from 'zod';
import { Subscriptions, type EventEnvelope } from '@quizmesh/platform';

function consumerApp(requireEventId: boolean) {
  const handled: EventEnvelope[] = [];
  const app = express();
  app.use(express.json({ type: ['application/json', 'application/cloudevents+json'] }));
  new Subscriptions(pino({ level: 'silent' })).add(app, {
    pubsub: 'pubsub',
    topic: 'thing.happened',
    schema: z.object({ n: z.number() }),
    requireEventId,
    handler: (_data, envelope) => {
      handled.push(envelope);
      return Promise.resolve('SUCCESS');
    },
  });
  return { app, handled };
}

const deliver = (app: express.Express, event: Record<string, unknown>) =>
  request(app).post('/events/thing.happened').set('content-type', 'application/cloudevents+json').send(event);

describe('Subscriptions', () => {
  it.each([
    ['no id', {}],
    ['an empty id', { id: '' }],
  ])('drops an event with %s when the handler deduplicates by id, without running it', async (_name, id) => {
    const { app, handled } = consumerApp(true);
    const res = await deliver(app, { ...id, data: { n: 1 } });
    expect(res.body).toEqual({ status: 'DROP' });
    expect(handled).toEqual([]);
  });

  it('hands an event with an id to the deduplicating handler', async () => {
    const { app, handled } = consumerApp(true);
    const res = await deliver(app, { id: 'e-1', data: { n: 1 } });
    expect(res.body).toEqual({ status: 'SUCCESS' });
    expect(handled.map((e) => e.id)).toEqual(['e-1']);
  });

  it('hands an event without an id to a handler that does not deduplicate', async () => {
    const { app, handled } = consumerApp(false);
    const res = await deliver(app, { data: { n: 1 } });
    expect(res.body).toEqual({ status: 'SUCCESS' });
    expect(handled.map((e) => e.id)).toEqual(['']);
  });
});
