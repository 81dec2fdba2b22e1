import type { CredentialFormat } from './format.js';
import { msoMdoc } from './mso-mdoc/mso-mdoc.js';
import { sdJwtVc } from './sd-jwt-vc.js';

/** Every credential format this issuer speaks. Adding one is a module implementing CredentialFormat, and a line here. */
export const CREDENTIAL_FORMATS: readonly CredentialFormat[] = [sdJwtVc, msoMdoc];

/** The module of a stored configuration's format. */
export function formatOf(configuration: { format: string }): CredentialFormat {
  const format = CREDENTIAL_FORMATS.find((candidate) => candidate.id === configuration.format);
  if (!format) throw new Error(`No credential format module for "${configuration.format}"`);
  return format;
}

/** The module a draft-13 credential request names by its `format`, if any. */
export const formatForDraft13 = (format: string) => CREDENTIAL_FORMATS.find((candidate) => candidate.draft13Formats.includes(format));
