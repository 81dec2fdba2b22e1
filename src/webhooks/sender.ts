import http from 'node:http';
import https from 'node:https';
import { guardedLookup, urlProblem, type DestinationPolicy } from './destination.js';

export interface SendResult {
  /** The receiver's status code, or null when no response came (refused, unreachable, timed out). */
  status: number | null;
  /** Why it did not succeed, for the delivery log (never the response body, which is not kept). */
  error?: string;
}

/**
 * POSTs one signed delivery. Success is a 2xx; a redirect is not followed (it would be a way around
 * the destination check) and counts as a failure. The attempt as a whole (connect, TLS, response
 * headers) must finish within `timeoutMs`; the response body is neither read nor stored. `signal`
 * cuts the attempt short (the instance is stopping): it counts as a failed attempt.
 */
export function sendDelivery(
  target: { url: string; headers: Record<string, string>; body: string },
  policy: DestinationPolicy & { timeoutMs: number },
  signal?: AbortSignal,
): Promise<SendResult> {
  const problem = urlProblem(target.url, policy);
  if (problem) return Promise.resolve({ status: null, error: `refused: the URL ${problem}` });
  const url = new URL(target.url);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      request.destroy();
      resolve(result);
    };
    const request = client.request(url, {
      method: 'POST',
      agent: false,
      lookup: guardedLookup(policy.allowPrivateNetworks) as never,
      headers: {
        ...target.headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(target.body)),
        'user-agent': 'vci-issuer-webhooks',
      },
    });
    const timer = setTimeout(() => settle({ status: null, error: `no response within ${policy.timeoutMs / 1000} s` }), policy.timeoutMs);
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      response.destroy();
      settle(status >= 200 && status < 300 ? { status } : { status, error: status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}` });
    });
    request.on('error', (error) => settle({ status: null, error: error.message }));
    const onAbort = () => settle({ status: null, error: 'cut short: the instance was stopping' });
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    else request.end(target.body);
  });
}
