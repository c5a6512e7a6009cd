/**
 * Poison never loops (issue 12): bytes that are not a CloudEvent, published with
 * metadata.rawPayload=true, on real RabbitMQ with the local platform's pub/sub component. The
 * live subscription dead-letters them once; the dead-letter subscription (rawPayload) hands them
 * to the admin API, which parks them with their raw bytes; an admin lists and discards them.
 * Before, the dead-letter subscription failed to parse them and requeued them without bound.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { deadLetterListSchema } from '@quizmesh/platform/deadletters';
import { createTestVhost, eventually, type TestVhost } from '@quizmesh/platform/testing';
import { startService, type ServiceUnderTest } from './deadletters-harness';

jest.setTimeout(60_000);
const PATH = '/api/v1/admin/dead-letters';
const ADMIN = 'player,admin';
// Not UTF-8, not JSON: what a broken producer might send.
const POISON = Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x6e, 0x6f, 0x74, 0x20, 0x6a, 0x73, 0x6f, 0x6e]);

let vhost: TestVhost;
let service: ServiceUnderTest;
let sidecarLogLines = 0;

beforeAll(async () => {
  vhost = await createTestVhost('qm_poison');
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      sidecarLogLines += chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line !== '').length;
      done();
    },
  });
  service = await startService('state.redis', { rabbitmqUrl: vhost.url, sidecarLogger: pino({ level: 'info' }, sink) });
});

afterAll(async () => {
  await service?.stop();
  await vhost?.drop();
});

it('parks a non-JSON raw message within the retry budget, visible and discardable through the admin API', async () => {
  const logLinesBefore = sidecarLogLines;
  const res = await fetch(
    `http://127.0.0.1:${service.sidecar.httpPort}/v1.0/publish/pubsub/test.happened?metadata.rawPayload=true`,
    { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: POISON },
  );
  expect(res.status).toBe(204);

  await eventually(async () => (await service.deadLetters.store.ids()).length === 1);
  // Time for a loop to show: the old code redelivered thousands of times per second.
  await new Promise((resolve) => setTimeout(resolve, 2_000));

  const listed = await service.call('GET', `${PATH}?topic=test.happened`, { roles: ADMIN });
  expect(listed.status).toBe(200);
  const [deadLetter, ...others] = deadLetterListSchema.parse(listed.json).items;
  expect(others).toEqual([]);
  expect(deadLetter).toMatchObject({ topic: 'test.happened', deliveryCount: 1, type: null, source: null });
  expect(deadLetter?.eventId).toMatch(/^raw-sha256:[0-9a-f]{64}$/);
  expect(deadLetter?.event).toMatchObject({ quizmeshUnparsable: true, datacontenttype: 'application/octet-stream' });
  expect(Buffer.from(String(deadLetter?.event.data_base64), 'base64')).toEqual(POISON);
  // It never reached the consumer (nothing to parse), and was not handed to the compensation hook.
  expect(service.deliveries).toEqual([]);
  expect(service.hookCalls).toEqual([]);

  // Acknowledged everywhere: nothing ready or unacknowledged in any queue, nothing in dlq-*.
  for (const [name, { ready, unacknowledged: unacked }] of await vhost.queues()) {
    expect({ name, ready, unacked }).toEqual({ name, ready: 0, unacked: 0 });
  }
  // Bounded log: a handful of lines for the whole story (the loop wrote hundreds of thousands).
  expect(sidecarLogLines - logLinesBefore).toBeLessThan(20);

  const replay = await service.call('POST', `${PATH}/${deadLetter?.id}/replay`, { roles: ADMIN });
  expect(replay.status).toBe(409);
  expect(replay.type).toContain('application/problem+json');

  const discarded = await service.call('DELETE', `${PATH}/${deadLetter?.id}`, { roles: ADMIN });
  expect(discarded.status).toBe(204);
  const after = await service.call('GET', PATH, { roles: ADMIN });
  expect(deadLetterListSchema.parse(after.json).items).toEqual([]);
});
