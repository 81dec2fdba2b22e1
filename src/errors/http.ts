import { z } from 'zod';

export const errorDetailSchema = z.object({
  location: z.enum(['body', 'query', 'params', 'headers']),
  param: z.string(),
  msg: z.string(),
});
export type ErrorDetail = z.infer<typeof errorDetailSchema>;

/** A failure of the HTTP exchange itself (authentication, an unknown route, an unreadable body), raised by the HTTP layer. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
