/**
 * Which hops may set X-Forwarded-For (issue 11): none unless configured, so a local client
 * cannot pick its own rate-limit bucket; a configured hop count (the chart's ingress) is honoured.
 */
import express from 'express';
import request from 'supertest';
import { loadConfig } from '@quizmesh/platform';
import { trustProxyValue } from '../src/app';
import { gatewayConfigSchema } from '../src/config';

function clientIpSeenWith(trustProxy: string) {
  const app = express();
  app.set('trust proxy', trustProxyValue(trustProxy));
  app.get('/ip', (req, res) => res.json({ ip: req.ip }));
  return request(app).get('/ip').set('x-forwarded-for', '203.0.113.9');
}

describe('trusted proxies', () => {
  it('trusts no proxy by default: X-Forwarded-For from a local client is ignored', async () => {
    const config = loadConfig(gatewayConfigSchema, {});
    expect(config.TRUST_PROXY).toBe('false');
    const res = await clientIpSeenWith(config.TRUST_PROXY);
    expect(res.body.ip).not.toBe('203.0.113.9');
    expect(res.body.ip).toMatch(/127\.0\.0\.1|::1/);
  });

  it('takes the client address from the one trusted hop when configured (the ingress controller)', async () => {
    const res = await clientIpSeenWith('1');
    expect(res.body.ip).toBe('203.0.113.9');
  });
});
