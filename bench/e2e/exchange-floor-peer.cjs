/**
 * The two processes of exchange-floor.bench.ts, in plain JavaScript so they run without a
 * loader, as the launcher runs the platform's: `server <node:http|express>` answers JSON
 * POSTs; `client <port> <rate> <seconds>` sends them open loop. Each reports its own CPU time.
 */
'use strict';
const http = require('node:http');

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

function server(kind) {
  const answer = JSON.stringify({ status: 'SUCCESS' });
  let handler;
  if (kind === 'express') {
    const express = require('express');
    const app = express();
    app.disable('x-powered-by');
    app.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }));
    app.post('/events/topic', (req, res) => {
      res.status(200).json({ status: req.body && req.body.id ? 'SUCCESS' : 'DROP' });
    });
    handler = app;
  } else {
    handler = (req, res) => {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
        res.end(answer);
      });
    };
  }
  const listener = http.createServer(handler);
  listener.keepAliveTimeout = 60_000;
  listener.listen(0, '127.0.0.1', () => process.send({ port: listener.address().port }));
  let startedAt = 0;
  process.on('message', (message) => {
    if (message.type === 'start') startedAt = cpuMs();
    if (message.type === 'stop') process.send({ cpuMs: cpuMs() - startedAt });
  });
}

async function client(port, rate, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const body = JSON.stringify({
    specversion: '1.0',
    id: '5b0e7f61-2a43-4a8e-9d55-3c9f1f0f5e21',
    type: 'dev.quizmesh.score.calculated.v1',
    source: 'evaluation',
    datacontenttype: 'application/json',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    data: {
      schemaVersion: 1,
      attemptId: 'a'.repeat(36),
      userId: 'u'.repeat(36),
      score: 7,
      maxScore: 10,
      pad: 'x'.repeat(200),
    },
  });
  const send = () =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/events/topic',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/cloudevents+json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  // Warm the code paths first, unmeasured.
  for (let i = 0; i < 200; i++) await send();
  process.send({ warm: true });
  await new Promise((resolve) => process.once('message', resolve));
  const started = cpuMs();
  const total = rate * seconds;
  const t0 = performance.now();
  const inFlight = [];
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(send());
  }
  await Promise.all(inFlight);
  process.send({ cpuMs: cpuMs() - started, sent: total });
}

const [role, ...args] = process.argv.slice(2);
if (role === 'server') server(args[0] || 'node:http');
else void client(Number(args[0]), Number(args[1]), Number(args[2]));
