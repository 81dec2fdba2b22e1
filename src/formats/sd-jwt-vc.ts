import { createHash, sign } from 'node:crypto';
import { SDJwtInstance } from '@sd-jwt/core';
import { z } from 'zod';
import { claimValueSchema, findForbiddenClaimKey, forbiddenKeyMessage, isForbiddenClaimKey } from '../claims/claim-data.js';
import { MAP_FROM_PATTERN, readClaim, type ClaimSource } from '../claims/claim-source.js';
import { randomSecret } from '../crypto/secrets.js';
import { formatPath } from '../errors/domain.js';
import { CREDENTIAL_SIGNING_ALG, PROOF_SIGNING_ALGS } from '../protocol.js';
import {
  addPeriod,
  brandingSchema,
  statusClaim,
  statusOptionsInput,
  statusOptionsOutput,
  claimDisplay,
  claimLabelsSchema,
  displayOf,
  validityPeriodSchema,
  type ConfigurationRecord,
  IssuanceDenied,
  type CredentialFormat,
  type IssuedCredential,
} from './format.js';

/**
 * Claims the SD-JWT VC itself defines; a mapping may not produce them (SD-JWT VC §3.2.2: they are
 * never selectively disclosable and come from the issuer, not from user data).
 */
export const RESERVED_CLAIMS = ['iss', 'vct', 'vct#integrity', 'cnf', 'iat', 'exp', 'nbf', 'status', '_sd', '_sd_alg', '...'];

const claimName = z
  .string()
  .min(1)
  .max(256)
  .refine((name) => !RESERVED_CLAIMS.includes(name), { message: `must not be one of ${RESERVED_CLAIMS.join(', ')}` })
  .refine((name) => !isForbiddenClaimKey(name), { error: (issue) => forbiddenKeyMessage(String(issue.input)) });

/** A claim mapping (MATTR VII style): where a credential claim's value comes from at issuance. */
export const claimMappingSchema = z.strictObject({
  mapFrom: z.string().max(512).regex(MAP_FROM_PATTERN, 'must be "claims.<name>" (dots for nested values) or "user.id"'),
  required: z.boolean().default(false),
  defaultValue: claimValueSchema.optional(),
  selectivelyDisclosable: z.boolean().default(true),
  display: claimLabelsSchema.optional(),
});
export type ClaimMapping = z.infer<typeof claimMappingSchema>;
type ClaimMappings = Record<string, ClaimMapping>;

export const configurationInputSchema = z
  .strictObject({
    type: z.string().min(1).max(1024).describe('The SD-JWT VC `vct`'),
    name: z.string().min(1).max(200).optional(),
    description: z.string().max(1000).optional(),
    claimMappings: z.record(claimName, claimMappingSchema).default({}),
    expiresIn: validityPeriodSchema.optional(),
    branding: brandingSchema.optional(),
    ...statusOptionsInput,
  })
  .meta({
    id: 'SdJwtConfigurationRequest',
    examples: [
      {
        type: 'https://credentials.example.com/identity',
        name: 'Identity card',
        claimMappings: {
          given_name: { mapFrom: 'claims.givenName', required: true },
          family_name: { mapFrom: 'claims.familyName', required: true },
          birthdate: { mapFrom: 'claims.birthdate' },
        },
        expiresIn: { years: 1 },
        branding: { name: 'Identity card', backgroundColor: '#0B3D91', textColor: '#FFFFFF' },
      },
    ],
  });

export const configurationSchema = z
  .object({
    id: z.uuid(),
    format: z.literal('dc+sd-jwt'),
    type: z.string(),
    name: z.string().optional(),
    description: z.string().optional(),
    claimMappings: z.record(z.string(), claimMappingSchema),
    expiresIn: validityPeriodSchema.optional(),
    branding: brandingSchema.optional(),
    ...statusOptionsOutput,
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'SdJwtConfiguration' });

/** A required claim the source cannot supply. */
export interface MissingClaim {
  /** The claim as the configuration names it. */
  name: string;
  mapFrom: string;
}

export interface ResolvedClaim {
  name: string;
  value: unknown;
  selectivelyDisclosable: boolean;
}

/**
 * Applies mappings to a source. A claim resolves to the value at `mapFrom`, else its `defaultValue`;
 * an unresolved required claim is reported in `missing`, an unresolved optional one is left out.
 */
export function resolveClaims(mappings: ClaimMappings, source: ClaimSource): { claims: ResolvedClaim[]; missing: MissingClaim[] } {
  const claims: ResolvedClaim[] = [];
  const missing: MissingClaim[] = [];
  for (const [name, mapping] of Object.entries(mappings)) {
    const value = readClaim(source, mapping.mapFrom) ?? mapping.defaultValue;
    if (value === undefined || value === null) {
      if (mapping.required) missing.push({ name, mapFrom: mapping.mapFrom });
      continue;
    }
    claims.push({ name, value, selectivelyDisclosable: mapping.selectivelyDisclosable });
  }
  return { claims, missing };
}

const mappingsOf = (configuration: ConfigurationRecord) => configuration.claimMappings as ClaimMappings;

const hasher = (data: string | ArrayBuffer) => new Uint8Array(createHash('sha256').update(typeof data === 'string' ? data : Buffer.from(data)).digest());
// SD-JWT §9.3: salts of at least 128 bits from a CSPRNG, fresh per disclosure.
const saltGenerator = () => randomSecret(16);

/** The SD-JWT VC `typ` values: `dc+sd-jwt` since SD-JWT VC draft 06, `vc+sd-jwt` before (draft-13 era wallets). */
const TYPS = ['dc+sd-jwt', 'vc+sd-jwt'] as const;
type SdJwtTyp = (typeof TYPS)[number];

export const sdJwtVc: CredentialFormat = {
  id: 'dc+sd-jwt',
  title: 'SD-JWT VC',
  managementPath: 'sd-jwt',
  configurationInput: configurationInputSchema,
  configurationOutput: configurationSchema,
  draft13Formats: TYPS,
  statusListKind: 'jwt',

  // Draft 13 §A.3.3: `format` and `vct`.
  namedByDraft13Request: (request, configuration) => request.vct === configuration.type,

  // Claims are JSON values of any type here: only a missing required one is a problem.
  claimProblems: (configuration, source) =>
    resolveClaims(mappingsOf(configuration), source).missing.map(({ name, mapFrom }) => ({ field: mapFrom, message: `required for claim "${name}"` })),

  // The same entry in every dialect: 1.0's members and draft 13's do not conflict for SD-JWT VC.
  metadataEntry(configuration, config) {
    const display = displayOf(configuration);
    const claimEntries = Object.entries(mappingsOf(configuration));
    return {
      format: config.credentials.sdJwtFormat,
      vct: configuration.type,
      scope: configuration.id,
      cryptographic_binding_methods_supported: ['jwk'],
      credential_signing_alg_values_supported: [CREDENTIAL_SIGNING_ALG],
      proof_types_supported: { jwt: { proof_signing_alg_values_supported: [...PROOF_SIGNING_ALGS] } },
      credential_metadata: {
        display,
        claims: claimEntries.map(([name, mapping]) => ({ path: [name], mandatory: mapping.required, display: claimDisplay(name, mapping.display) })),
      },
      // Draft 13 read these at the top level of the configuration.
      display,
      claims: Object.fromEntries(claimEntries.map(([name, mapping]) => [name, { mandatory: mapping.required, display: claimDisplay(name, mapping.display) }])),
      order: claimEntries.map(([name]) => name),
    };
  },

  /**
   * `vct`, `iss`, `iat`, `exp` and `cnf` are always plain (SD-JWT VC §3.2.2); mapped claims become
   * disclosures when marked selectively disclosable. ES256 with the issuer's key, `kid` and `x5c`.
   */
  async issue(deps, { configuration, source, holders, issuedAt, draft13Format }) {
    const { claims } = resolveClaims(mappingsOf(configuration), source);
    // Refused where claim data enters; checked again here for data stored before that rule existed.
    const forbidden = findForbiddenClaimKey(Object.fromEntries(claims.map(({ name, value }) => [name, value])));
    if (forbidden) throw new IssuanceDenied(`The claim data holds a reserved name at ${formatPath(forbidden)}`);
    const signingKey = await deps.signingKey();
    const typ: SdJwtTyp = TYPS.find((typ) => typ === draft13Format) ?? deps.config.credentials.sdJwtFormat;
    const expiresAt = configuration.expiresIn ? addPeriod(issuedAt, configuration.expiresIn) : null;
    const instance = new SDJwtInstance({
      signAlg: CREDENTIAL_SIGNING_ALG,
      signer: (data: string) => sign('sha256', Buffer.from(data), { key: signingKey.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url'),
      hasher,
      hashAlg: 'sha-256',
      saltGenerator,
    });
    const values = Object.fromEntries(claims.map(({ name, value }) => [name, value]));
    const disclosable = claims.filter((claim) => claim.selectivelyDisclosable).map((claim) => claim.name);
    const statuses = await deps.statusReferences({ reference: signingKey.kid, expiresAt: null }, holders.length);
    return Promise.all(
      holders.map(async (holder, index): Promise<IssuedCredential> => {
        const status = statuses?.[index];
        const payload = {
          ...values,
          iss: deps.config.publicUrl,
          vct: configuration.type,
          iat: Math.floor(issuedAt.getTime() / 1000),
          ...(expiresAt && { exp: Math.floor(expiresAt.getTime() / 1000) }),
          cnf: { jwk: holder.jwk },
          // SD-JWT VC §3.2.2.2: always in the clear, so a verifier can check it without a disclosure.
          ...(status && { status: statusClaim(status) }),
        };
        const credential = await instance.issue(payload, disclosable.length ? ({ _sd: disclosable } as never) : undefined, {
          header: { typ, kid: signingKey.kid, x5c: [...signingKey.x5c] },
        });
        return { credential, holderKeyThumbprint: holder.thumbprint, issuerKid: signingKey.kid, validFrom: issuedAt, expiresAt, ...(status && { status }) };
      }),
    );
  },
};
