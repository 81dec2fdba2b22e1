import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

// A webhook receiver over real HTTP on 127.0.0.1, as a customer's would be: it verifies each
// delivery with the Standard Webhooks reference library (independent of the service's signer) and
// keeps what arrived. It can be stopped and started again on the same port (the receiver is down),
// and told how to answer.

export interface Received {
  id: string;
  headers: IncomingHttpHeaders;
  body: string;
  // Payloads are read freely by tests.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  payload: any;
  /** Whether the signature verified with the webhook's secret (false when no secret was given yet). */
  verified: boolean;
}

export class WebhookReceiver {
  readonly received: Received[] = [];
  /** Answers each delivery: a status code, or 'hang' to never answer. */
  answer: (received: Received) => number | 'hang' = () => 204;
  secret: string | undefined;
  /** The Location of its 3xx answers. */
  redirectTo = 'http://127.0.0.1:9/elsewhere';
  #server: Server | undefined;
  #port = 0;
  readonly #hanging = new Set<ServerResponse>();

  get url(): string {
    return `http://127.0.0.1:${this.#port}/hooks`;
  }

  /** Starts listening (on the port it had before, when started again). */
  async start(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let verified = false;
        if (this.secret) {
          try {
            new Webhook(this.secret).verify(body, request.headers as Record<string, string>);
            verified = true;
          } catch {
            verified = false;
          }
        }
        const received: Received = { id: String(request.headers['webhook-id']), headers: request.headers, body, payload: JSON.parse(body), verified };
        this.received.push(received);
        const answer = this.answer(received);
        if (answer === 'hang') {
          this.#hanging.add(response);
          return;
        }
        const location = answer >= 300 && answer < 400 ? { location: this.redirectTo } : {};
        response.writeHead(answer, { 'content-type': 'text/plain', ...location }).end('a body the service must not keep');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening and drops every connection: deliveries now find nobody. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    for (const response of this.#hanging) response.destroy();
    this.#hanging.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The distinct webhook-ids received. */
  ids(): Set<string> {
    return new Set(this.received.map((r) => r.id));
  }

  /** Waits until `done()` holds, polling; throws with what arrived after `timeoutMs`. */
  async until(done: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`receiver: condition not met within ${timeoutMs} ms; received ${this.received.length}: ${this.received.map((r) => r.payload.type).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
