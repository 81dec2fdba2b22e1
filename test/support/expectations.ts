import { expect } from 'vitest';
import type { HttpResponse } from './client.js';

// Assertions on management API answers.

export interface ErrorDetail {
  location: string;
  param: string;
  msg: string;
}

/** `details[].param` of an error response, sorted. */
export function params(response: HttpResponse): string[] {
  const body = response.json() as { details?: ErrorDetail[] };
  return (body.details ?? []).map((detail) => detail.param).sort();
}

/** Asserts a 400 in the management error shape whose details name exactly `expected` (sorted), all in `location`. */
export function expectBadRequest(response: HttpResponse, expected: string[], location = 'body') {
  expect(response.statusCode, response.body).toBe(400);
  const body = response.json() as { code: string; message: string; details: ErrorDetail[] };
  expect(body.code).toBe('BadRequest');
  expect(typeof body.message).toBe('string');
  expect(params(response)).toEqual([...expected].sort());
  for (const detail of body.details) {
    expect(detail.location).toBe(location);
    expect(detail.msg.length).toBeGreaterThan(0);
  }
  return body;
}
