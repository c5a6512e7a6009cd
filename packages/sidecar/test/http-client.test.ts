/**
 * The keep-alive client the sidecar uses towards apps and other sidecars: when the peer died,
 * every pooled socket to it is dead, and a request must not fail on them one after another.
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createKeepAliveAgent, httpRequest } from '../src/app-channel/http-client';

it('goes past every dead pooled socket to a fresh connection', async () => {
  // Answers the first request on a connection and keeps it alive; a second request on the same
  // connection is dropped without an answer, as a restarted peer's stale sockets are.
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    let served = 0;
    socket.on('data', () => {
      served += 1;
      if (served > 1) socket.destroy();
      else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = createKeepAliveAgent();
  const get = () => httpRequest(agent, { host: '127.0.0.1', port, method: 'GET', path: '/', headers: {} });
  try {
    // Three requests at once leave three idle sockets in the pool.
    await Promise.all([get(), get(), get()]);
    expect(connections).toBe(3);
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok');
    expect(connections).toBe(4);
  } finally {
    agent.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

it('does not send a POST again when the peer read it and closed the pooled connection (FIN, no reset)', async () => {
  // The first request on a connection is answered; the second is read and the connection ended:
  // the peer may have acted on it, as an app killed while it handles a call.
  let connections = 0;
  let postsRead = 0;
  const server = createServer((socket) => {
    connections += 1;
    let served = 0;
    socket.on('data', (data: Buffer) => {
      served += 1;
      if (data.toString('latin1').startsWith('POST')) postsRead += 1;
      if (served > 1) socket.end();
      else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = createKeepAliveAgent();
  try {
    await httpRequest(agent, { host: '127.0.0.1', port, method: 'GET', path: '/', headers: {} });
    const post = httpRequest(agent, {
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/',
      headers: {},
      body: Buffer.from('{}'),
    });
    await expect(post).rejects.toMatchObject({ code: 'ECONNRESET', message: 'socket hang up' });
    expect({ connections, postsRead }).toEqual({ connections: 1, postsRead: 1 });
  } finally {
    agent.destroy();
    server.close();
  }
});

it('sends a POST again on a fresh connection when the pooled one was closed before the POST arrived', async () => {
  // The server closes its idle keep-alive connection (FIN) just as the client reuses it: the POST
  // reaches a closed socket, the kernel answers with a reset after the FIN (EPIPE) and no process
  // ever read it.
  const sockets = new Set<Socket>();
  let posts = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (data: Buffer) => {
      if (data.toString('latin1').startsWith('POST')) posts += 1;
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = createKeepAliveAgent();
  try {
    await httpRequest(agent, { host: '127.0.0.1', port, method: 'GET', path: '/', headers: {} });
    const idle = [...sockets];
    for (const socket of idle) socket.destroy();
    // Same tick: the agent has not seen the FIN and hands out the closed connection.
    const res = await httpRequest(agent, {
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/',
      headers: {},
      body: Buffer.from('{}'),
    });
    expect(res.status).toBe(200);
    expect(posts).toBe(1);
  } finally {
    agent.destroy();
    for (const socket of sockets) socket.destroy();
    server.close();
  }
});
