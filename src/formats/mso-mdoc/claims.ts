import { z } from 'zod';
import { claimValueSchema } from '../../claims/claim-data.js';
import { MAP_FROM_PATTERN, readClaim, type ClaimSource } from '../../claims/claim-source.js';
import { fullDate, isFullDate, tdate } from './cbor.js';
import { claimLabelsSchema } from '../format.js';

/**
 * The types a claim mapping gives a data element (MATTR VII's), and the CBOR each becomes
 * (ISO/IEC 18013-5 §7.2.1): string → tstr, number → int, boolean → bool, date → full-date (tag 1004,
 * from "YYYY-MM-DD"), dateTime → tdate (tag 0, UTC, whole seconds), array and object → arrays and
 * maps of the same, binary → bstr (sent as base64 or base64url).
 */
export const ELEMENT_TYPES = ['string', 'number', 'boolean', 'date', 'dateTime', 'array', 'object', 'binary'] as const;
export type ElementType = (typeof ELEMENT_TYPES)[number];

/** The mDL namespace (ISO/IEC 18013-5 §7.2.1). */
export const MDL_NAMESPACE = 'org.iso.18013.5.1';

/** An element mapping: where its value comes from, whether it must be there, its type, a value otherwise. */
export const elementMappingSchema = z
  .strictObject({
    mapFrom: z.string().max(512).regex(MAP_FROM_PATTERN, 'must be "claims.<name>" (dots for nested values) or "user.id"'),
    required: z.boolean().default(false),
    type: z.enum(ELEMENT_TYPES).default('string'),
    defaultValue: claimValueSchema.optional(),
    display: claimLabelsSchema.optional(),
  })
  .superRefine((mapping, ctx) => {
    if (mapping.defaultValue === undefined) return;
    const converted = toElementValue(mapping.type, mapping.defaultValue);
    if ('problem' in converted) ctx.addIssue({ code: 'custom', path: ['defaultValue'], message: `${converted.problem} (the mapping's type is ${mapping.type})` });
  })
  .meta({ id: 'MdocClaimMapping' });
export type ElementMapping = z.infer<typeof elementMappingSchema>;
/** `{ namespace: { elementIdentifier: mapping } }` */
export type NamespaceMappings = Record<string, Record<string, ElementMapping>>;

type Converted = { value: unknown } | { problem: string };

/** Integers as cbor-x writes them in their shortest form: beyond 32 bits only a BigInt is written as an integer, not a float. */
const cborInteger = (value: number) => (value >= -(2 ** 32) && value < 2 ** 32 ? value : BigInt(value));

const RFC3339_DATE_TIME = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeBinary(text: string): Buffer | undefined {
  if (BASE64.test(text)) return Buffer.from(text, 'base64');
  if (BASE64URL.test(text) && text.length % 4 !== 1) return Buffer.from(text, 'base64url');
  return undefined;
}

const where = (path: (string | number)[]) => path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('');

/** A JSON value inside an array or object element: maps for objects, integers for numbers (CBOR floats are refused: verifiers re-encode what they decode, and floats do not survive that). */
function toCborData(value: unknown, path: (string | number)[]): Converted {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return { value };
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { value: cborInteger(value) } : { problem: `holds a number that is not a whole number at ${where(path)}` };
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const [index, item] of value.entries()) {
      const converted = toCborData(item, [...path, index]);
      if ('problem' in converted) return converted;
      items.push(converted.value);
    }
    return { value: items };
  }
  if (typeof value === 'object') {
    const map = new Map<string, unknown>();
    for (const [key, item] of Object.entries(value)) {
      const converted = toCborData(item, [...path, key]);
      if ('problem' in converted) return converted;
      map.set(key, converted.value);
    }
    return { value: map };
  }
  return { problem: `holds a value JSON does not have at ${where(path)}` };
}

/** `value` as the CBOR of an element of `type`, or why it cannot be (never quoting the value). */
export function toElementValue(type: ElementType, value: unknown): Converted {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? { value } : { problem: 'must be a string' };
    case 'number':
      return typeof value === 'number' && Number.isSafeInteger(value) ? { value: cborInteger(value) } : { problem: 'must be a whole number (mDoc numbers are CBOR integers)' };
    case 'boolean':
      return typeof value === 'boolean' ? { value } : { problem: 'must be true or false' };
    case 'date':
      return typeof value === 'string' && isFullDate(value) ? { value: fullDate(value) } : { problem: 'must be a full-date "YYYY-MM-DD"' };
    case 'dateTime': {
      const match = typeof value === 'string' ? RFC3339_DATE_TIME.exec(value) : null;
      const date = match && isFullDate(match[1]!) ? new Date(value as string) : undefined;
      return date && !Number.isNaN(date.getTime()) ? { value: tdate(date) } : { problem: 'must be an RFC 3339 date-time such as "2025-01-31T09:00:00Z"' };
    }
    case 'binary': {
      const bytes = typeof value === 'string' ? decodeBinary(value) : undefined;
      return bytes ? { value: bytes } : { problem: 'must be binary data in base64 or base64url' };
    }
    case 'array':
      return Array.isArray(value) ? toCborData(value, []) : { problem: 'must be an array' };
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? toCborData(value, []) : { problem: 'must be an object' };
  }
}

/**
 * ISO/IEC 18013-5 §7.2.4: the issue_date and expiry_date of each driving privilege are full-dates.
 * Claim data has them as "YYYY-MM-DD" strings; they become tag 1004 here.
 */
function drivingPrivileges(value: unknown): Converted {
  if (!Array.isArray(value)) return { value };
  for (const [index, privilege] of value.entries()) {
    if (!(privilege instanceof Map)) return { problem: `must be an array of objects, not at [${index}]` };
    for (const key of ['issue_date', 'expiry_date']) {
      const date = privilege.get(key);
      if (date === undefined) continue;
      if (typeof date !== 'string' || !isFullDate(date)) return { problem: `must have full-dates "YYYY-MM-DD" at [${index}].${key}` };
      privilege.set(key, fullDate(date));
    }
  }
  return { value };
}

/** A data element ready to be signed: its namespace, identifier and CBOR value. */
export interface ResolvedElement {
  namespace: string;
  identifier: string;
  value: unknown;
}

/** Why one element cannot be made, naming where its value came from and the element. */
export interface ElementProblem {
  field: string;
  message: string;
}

/**
 * Applies the mappings to a source. An element takes the value at `mapFrom`, else its
 * `defaultValue`; an unresolved optional element is left out, an unresolved required one and a value
 * that does not fit its type are problems.
 */
export function resolveElements(mappings: NamespaceMappings, source: ClaimSource): { elements: ResolvedElement[]; problems: ElementProblem[] } {
  const elements: ResolvedElement[] = [];
  const problems: ElementProblem[] = [];
  for (const [namespace, namespaceMappings] of Object.entries(mappings)) {
    for (const [identifier, mapping] of Object.entries(namespaceMappings)) {
      const claim = `"${namespace}/${identifier}"`;
      const raw = readClaim(source, mapping.mapFrom) ?? mapping.defaultValue;
      if (raw === undefined || raw === null) {
        if (mapping.required) problems.push({ field: mapping.mapFrom, message: `required for claim ${claim}` });
        continue;
      }
      let converted = toElementValue(mapping.type, raw);
      if (!('problem' in converted) && namespace === MDL_NAMESPACE && identifier === 'driving_privileges') converted = drivingPrivileges(converted.value);
      if ('problem' in converted) problems.push({ field: mapping.mapFrom, message: `${converted.problem} for claim ${claim} (type ${mapping.type})` });
      else elements.push({ namespace, identifier, value: converted.value });
    }
  }
  return { elements, problems };
}

/** The elements the MSO must agree with its document signer on (ISO/IEC 18013-5 §9.3.3): issuing_country is the certificate's C, issuing_jurisdiction its ST. */
export function signerMismatch(elements: ResolvedElement[], signer: { country: string; stateOrProvince?: string }): string | undefined {
  const value = (identifier: string) => elements.find((element) => element.namespace === MDL_NAMESPACE && element.identifier === identifier)?.value;
  const country = value('issuing_country');
  if (country !== undefined && country !== signer.country) return `issuing_country must be ${signer.country}, the country of the document signer certificate`;
  const jurisdiction = value('issuing_jurisdiction');
  if (jurisdiction !== undefined && signer.stateOrProvince !== undefined && jurisdiction !== signer.stateOrProvince) {
    return `issuing_jurisdiction must be ${signer.stateOrProvince}, the state or province of the document signer certificate`;
  }
  return undefined;
}
