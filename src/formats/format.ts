import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { z } from 'zod';
import type { ClaimSource } from '../claims/claim-source.js';
import type { Config } from '../config.js';
import type { SecretKeys } from '../crypto/secrets.js';
import type { Db } from '../db/database.js';
import type { StatusListKind } from '../protocol.js';

/**
 * A credential format (SD-JWT VC, mso_mdoc, …) is a module implementing this interface, registered
 * in `formats/index.ts`. Everything the rest of the service does with credentials goes through it:
 * the management API of its configurations, its metadata entry, how a draft-13 request names it,
 * which claims an offer must supply, and how a credential is built and signed.
 */
export interface CredentialFormat {
  /** Stored in `credential_configurations.format`. */
  readonly id: string;
  /** For people: "SD-JWT VC". */
  readonly title: string;
  /** Its configurations are managed at `/v2/credentials/<managementPath>/configurations` (MATTR VII style). */
  readonly managementPath: string;
  /** The configuration request body (POST and PUT). */
  readonly configurationInput: z.ZodType<ConfigurationInput>;
  /** The configuration as the management API answers it. */
  readonly configurationOutput: z.ZodType;
  /** The `format` values a draft-13 credential request may name it by (draft 13 §7.2). */
  readonly draft13Formats: readonly string[];
  /** The kind of Status List Token its credentials refer to (draft-ietf-oauth-status-list §5). */
  readonly statusListKind: StatusListKind;

  /** Whether a draft-13 request (`format` plus the format's own members) asks for `configuration`. */
  namedByDraft13Request(request: Record<string, unknown>, configuration: ConfigurationRecord): boolean;
  /**
   * What keeps `source` from making this credential: required claims it cannot supply, and values
   * of the wrong type. An offer refuses them (400 naming each), the credential endpoint denies.
   */
  claimProblems(configuration: ConfigurationRecord, source: ClaimSource): ClaimProblem[];
  /**
   * Its entry in `credential_configurations_supported` of the metadata document of `dialect`:
   * OID4VCI 1.0 §12.2.4, draft 13 §10.2.3, or `both` when one document serves wallets of either
   * (PUBLIC_URL without a path, where the two well-known locations coincide).
   */
  metadataEntry(configuration: ConfigurationRecord, config: Config, dialect: MetadataDialect): Record<string, unknown>;
  /** One credential per holder key, signed, from the claims `source` supplies. */
  issue(deps: IssuanceDeps, request: IssueRequest): Promise<IssuedCredential[]>;
}

/** Which wallets a Credential Issuer metadata document is for. */
export type MetadataDialect = '1.0' | 'draft13' | 'both';

/**
 * What a format may use to issue: settings, the database and secret (for keys of its own), and the
 * keys to sign with, which the credential endpoint provides so that formats import no domain.
 */
export interface IssuanceDeps {
  config: Config;
  db: Db;
  secrets: SecretKeys;
  /** The active issuer key (JOSE), from the cache. */
  signingKey(): Promise<SigningMaterial>;
  /**
   * The document signer to sign an mDoc with, usable now (its certificate and its IACA's are valid,
   * both active, the signer not revoked). Throws IssuanceDenied when there is none.
   */
  documentSigner(): Promise<DocumentSignerMaterial>;
  /**
   * Fresh status list entries for `count` credentials that `signer` signs (its reference, and when
   * its certificate ends, if it does), when the configuration includes status; undefined otherwise.
   * Each credential carries one as `status.status_list { idx, uri }`.
   */
  statusReferences(signer: { reference: string; expiresAt: Date | null }, count: number): Promise<StatusReference[] | undefined>;
}

/** A credential's entry in a Token Status List: `uri` names the list's token, `idx` the entry. */
export interface StatusReference {
  listId: string;
  idx: number;
  uri: string;
}

/** draft-ietf-oauth-status-list §6: the `status` a credential carries. */
export const statusClaim = (reference: StatusReference) => ({ status_list: { idx: reference.idx, uri: reference.uri } });

/** A holder key from a verified key proof: a credential is bound to it. */
export interface HolderKey {
  jwk: JWK;
  /** RFC 7638 thumbprint. */
  thumbprint: string;
}

export interface IssueRequest {
  configuration: ConfigurationRecord;
  source: ClaimSource;
  holders: HolderKey[];
  issuedAt: Date;
  /** The `format` a draft-13 request named, when it did. */
  draft13Format?: string;
}

/** The claim data cannot make this credential (a value of the wrong type, a reserved name): the wallet's request is denied. */
export class IssuanceDenied extends Error {}

export interface IssuedCredential {
  credential: string;
  holderKeyThumbprint: string;
  /** The key that signed it, so that a retired key stays published until its last credential expires. */
  issuerKid: string;
  validFrom: Date;
  expiresAt: Date | null;
  status?: StatusReference;
}

/** A claim the source cannot supply as the configuration needs it. */
export interface ClaimProblem {
  /** Where the value is read from (`claims.birthDate`): the field an offer's error names. */
  field: string;
  /** What is wrong, naming the claim as the configuration names it. */
  message: string;
}

export interface SigningMaterial {
  kid: string;
  privateKey: KeyObject;
  x5c: readonly string[];
}

/** An mDoc document signer (ISO/IEC 18013-5 Annex B.1.4) and the limits its certificates set. */
export interface DocumentSignerMaterial {
  /** Recorded with each credential it signs, where an SD-JWT records the kid: `mdoc-ds:<id>`. */
  reference: string;
  privateKey: KeyObject;
  /** DER of the document signer certificate, for the COSE x5chain header. */
  certificate: Buffer;
  notBefore: Date;
  /** The earlier of the document signer's and the IACA's notAfter: no mDoc it signs is valid longer. */
  notAfter: Date;
  /** C and ST of the certificate's subject (the IACA's). */
  country: string;
  stateOrProvince?: string;
}

// --- Configuration building blocks every format shares (MATTR VII shapes) ---

const count = z.number().int().min(0).max(100_000);
export const validityPeriodSchema = z
  .strictObject({ years: count, months: count, weeks: count, days: count, hours: count, minutes: count, seconds: count })
  .partial()
  .refine((period) => Object.values(period).some((value) => value > 0), { message: 'must be a positive period' })
  .meta({ id: 'ValidityPeriod' });
export type ValidityPeriod = z.infer<typeof validityPeriodSchema>;

/**
 * Adds a validity period to a date (UTC): years and months by the calendar, a day the target month
 * lacks becoming its last day (31 January plus a month is 28 or 29 February, as in PostgreSQL and
 * java.time: a credential never outlives the month it was meant to end in), then the rest as fixed
 * lengths.
 */
export function addPeriod(from: Date, period: ValidityPeriod): Date {
  const date = new Date(from);
  const months = date.getUTCMonth() + (period.months ?? 0) + 12 * (period.years ?? 0);
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), months + 1, 0)).getUTCDate();
  date.setUTCFullYear(date.getUTCFullYear(), months, Math.min(date.getUTCDate(), lastDay));
  const seconds = (((period.weeks ?? 0) * 7 + (period.days ?? 0)) * 24 + (period.hours ?? 0)) * 3600 + (period.minutes ?? 0) * 60 + (period.seconds ?? 0);
  return new Date(date.getTime() + seconds * 1000);
}

const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a hex colour like #1A2B3C');
/** A language tag (BCP 47, as OID4VCI's `locale`): `en`, `de-CH`, `zh-Hant-TW`. */
export const localeSchema = z.string().regex(/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/, 'must be a BCP 47 language tag like en or de-CH');
export const DEFAULT_LOCALE = 'en';

export const brandingSchema = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    description: z.string().max(1000).optional(),
    locale: localeSchema.optional().describe(`The language of name and description (default ${DEFAULT_LOCALE})`),
    localized: z
      .array(z.strictObject({ locale: localeSchema, name: z.string().min(1).max(200), description: z.string().max(1000).optional() }))
      .max(50)
      .optional()
      .describe('The name and description in other languages; colours and logo are shared'),
    backgroundColor: color.optional(),
    textColor: color.optional(),
    logo: z
      .strictObject({
        // Wallets fetch or render this URI: no javascript:, file: or other schemes (OID4VCI display: https or data).
        uri: z.url({ protocol: /^(https?|data)$/, error: 'must be an https:, http: or data: URI' }).max(2048),
        altText: z.string().max(500).optional(),
      })
      .optional(),
  })
  .meta({ id: 'Branding' });
export type Branding = z.infer<typeof brandingSchema>;

/** Status list options, the same in every format's configuration (MATTR VII's `includeStatus`, and the list's width). */
export const statusOptionsInput = {
  includeStatus: z.boolean().default(false).describe('Credentials get a Token Status List entry, so that they can be revoked'),
  statusListBits: z
    .union([z.literal(1), z.literal(2)])
    .default(1)
    .describe('1: valid or invalid (invalid is final); 2: also suspended, which can be undone'),
};
export const statusOptionsOutput = { includeStatus: z.boolean(), statusListBits: z.union([z.literal(1), z.literal(2)]) };

/** What every configuration request carries; `claimMappings` is the format's own shape. */
export interface ConfigurationInput {
  type: string;
  name?: string;
  description?: string;
  claimMappings: Record<string, unknown>;
  expiresIn?: ValidityPeriod;
  /** mDocs (ISO 8601): when their credentials become valid, and an end that wins over expiresIn. */
  validFrom?: string;
  validUntil?: string;
  branding?: Branding;
  /** Whether its credentials get a status list entry, and how many bits it has (1: valid, invalid; 2: also suspended). */
  includeStatus?: boolean;
  statusListBits?: 1 | 2;
}

/** A credential configuration as stored, whatever its format. */
export interface ConfigurationRecord extends ConfigurationInput {
  id: string;
  format: string;
  createdAt: string;
  updatedAt: string;
}

/** The configuration's `display` in metadata (OID4VCI 1.0 Appendix B.2): one entry per language. */
export function displayOf(configuration: ConfigurationRecord) {
  const branding = configuration.branding;
  const shared: Record<string, unknown> = {};
  if (branding?.backgroundColor) shared.background_color = branding.backgroundColor;
  if (branding?.textColor) shared.text_color = branding.textColor;
  if (branding?.logo) shared.logo = { uri: branding.logo.uri, ...(branding.logo.altText && { alt_text: branding.logo.altText }) };
  const description = branding?.description ?? configuration.description;
  const main = {
    name: branding?.name ?? configuration.name ?? configuration.type,
    locale: branding?.locale ?? DEFAULT_LOCALE,
    ...(description && { description }),
    ...shared,
  };
  return [main, ...(branding?.localized ?? []).map(({ locale, name, description }) => ({ name, locale, ...(description && { description }), ...shared }))];
}

/** Labels of a claim, by language, as a configuration gives them (OID4VCI display entries). */
export const claimLabelsSchema = z
  .array(z.strictObject({ name: z.string().min(1).max(200), locale: localeSchema.optional() }))
  .min(1)
  .max(50)
  .describe('How wallets label the claim, by language (default: its name, in English)');
export type ClaimLabels = z.infer<typeof claimLabelsSchema>;

/** A claim's `display` in metadata: its labels, or its name in the default language. */
export const claimDisplay = (name: string, labels?: ClaimLabels) =>
  labels?.map((label) => ({ name: label.name, locale: label.locale ?? DEFAULT_LOCALE })) ?? [{ name, locale: DEFAULT_LOCALE }];
