import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../support/issuer.js';

// Clients that open a connection and then go quiet: each is answered 408 and closed once
// REQUEST_TIMEOUT_SECONDS has passed, there can only be MAX_CONNECTIONS of them, and a stop does not
// wait for them.

interface Raw {
  socket: Socket;
  data: () => string;
  closed: Promise<number>;
}

function open(issuer: TestIssuer, bytes: string): Raw {
  const socket = connect(Number(new URL(issuer.url).port), '127.0.0.1');
  let data = '';
  socket.on('data', (chunk) => (data += chunk));
  socket.on('error', () => {});
  const opened = performance.now();
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now() - opened)));
  if (bytes) socket.write(bytes);
  return { socket, data: () => data, closed };
}

const stalledUpload = (issuer: TestIssuer) =>
  `POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nAuthorization: Bearer ${issuer.adminKey}\r\n\r\n{"claims":`;

describe('stalled clients', () => {
  it('a body, headers or nothing at all that stops arriving: 408 in the management shape and closed after REQUEST_TIMEOUT_SECONDS', async () => {
    const issuer = await startTestIssuer({ listen: true, env: { REQUEST_TIMEOUT_SECONDS: '2' } });
    try {
      const upload = open(issuer, stalledUpload(issuer));
      const headers = open(issuer, 'GET /health/live HTTP/1.1\r\nHost: x\r\n');
      const silent = open(issuer, '');
      for (const raw of [upload, headers, silent]) {
        const closedAfter = await raw.closed;
        expect(closedAfter).toBeGreaterThan(1500);
        expect(closedAfter).toBeLessThan(5000);
      }
      for (const raw of [upload, headers]) {
        const [head, body] = raw.data().split('\r\n\r\n') as [string, string];
        expect(head).toMatch(/^HTTP\/1\.1 408 /);
        expect(head.toLowerCase()).toContain('x-content-type-options: nosniff');
        expect(JSON.parse(body)).toEqual({ code: 'BadRequest', message: expect.any(String) });
      }
      expect((await issuer.app.inject({ url: '/v1/users', headers: { authorization: `Bearer ${issuer.adminKey}` } })).json().data).toEqual([]);
    } finally {
      await issuer.close();
    }
  });

  it('past MAX_CONNECTIONS a connection is closed on arrival; the rest keep being served', async () => {
    const issuer = await startTestIssuer({ listen: true, env: { MAX_CONNECTIONS: '10' } });
    const raws: Raw[] = [];
    try {
      for (let i = 0; i < 10; i++) raws.push(open(issuer, stalledUpload(issuer)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const refused = open(issuer, 'GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await refused.closed).toBeLessThan(1000);
      expect(refused.data()).toBe('');
      raws[0]!.socket.destroy();
      await raws[0]!.closed;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await fetch(`${issuer.url}/health/ready`)).status).toBe(200);
    } finally {
      for (const raw of raws) raw.socket.destroy();
      await issuer.close();
    }
  });

  it('a stop closes connections still sending their body, and does not wait for them', async () => {
    const issuer = await startTestIssuer({ listen: true });
    const uploads = Array.from({ length: 20 }, () => open(issuer, stalledUpload(issuer)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = performance.now();
    await issuer.close();
    expect(performance.now() - started).toBeLessThan(3000);
    for (const upload of uploads) await upload.closed;
  });
});
