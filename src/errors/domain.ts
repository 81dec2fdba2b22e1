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

const FAILURE_RECORDED = Symbol('failure event recorded');

/**
 * Marks an error whose FAIL event was written together with the change it describes (a wrong
 * transaction code counts an attempt and records its FAIL in the same statement), so the error
 * handler does not record it again.
 */
export function failureRecorded<E extends Error>(error: E): E {
  Object.defineProperty(error, FAILURE_RECORDED, { value: true });
  return error;
}

export const isFailureRecorded = (error: unknown): boolean => typeof error === 'object' && error !== null && FAILURE_RECORDED in error;
