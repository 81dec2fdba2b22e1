/**
 * What use cases throw when a request cannot be carried out. They know the input's fields, not
 * where in an HTTP request those came from: the renderer adds the location.
 */
export interface FieldProblem {
  /** The input field, as `credentials[0]` or `claims.address.street`. */
  field: string;
  message: string;
}

export type DomainErrorKind = 'invalid' | 'not-found' | 'conflict';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly fields: FieldProblem[] = [],
  ) {
    super(message);
  }
}

export const invalidInput = (fields: FieldProblem[], message = 'Validation Error') => new DomainError('invalid', message, fields);
export const notFound = (what: string) => new DomainError('not-found', `${what} not found`);
export const conflict = (message: string) => new DomainError('conflict', message);

/** `["credentials", 0, "id"]` → `credentials[0].id` */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

const SKIP_FAILURE_EVENT = Symbol('no failure event from the error handler');

/**
 * Marks an error whose failure the error handler must not record: its FAIL event was written with
 * the change itself (a wrong transaction code counts an attempt and records it in the same
 * statement), or the request named nothing that exists (an unknown pre-authorized code: like a
 * request without valid credentials, it is no operation on anything and leaves no event).
 */
export function skipFailureEvent<E extends Error>(error: E, _because: 'recorded with the change' | 'names nothing that exists'): E {
  Object.defineProperty(error, SKIP_FAILURE_EVENT, { value: true });
  return error;
}

export const skipsFailureEvent = (error: unknown): boolean => typeof error === 'object' && error !== null && SKIP_FAILURE_EVENT in error;
