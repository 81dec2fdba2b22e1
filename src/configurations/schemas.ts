import { z } from 'zod';
import { claimValueSchema, forbiddenKeyMessage, isForbiddenClaimKey } from '../claims/claim-data.js';

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

export const claimMappingSchema = z.strictObject({
  mapFrom: z
    .string()
    .max(512)
    .regex(/^(claims(\.[^.\s]+)+|user\.id)$/, 'must be "claims.<name>" (dots for nested values) or "user.id"'),
  required: z.boolean().default(false),
  defaultValue: claimValueSchema.optional(),
  selectivelyDisclosable: z.boolean().default(true),
});

const count = z.number().int().min(0).max(100_000);
export const validityPeriodSchema = z
  .strictObject({ years: count, months: count, weeks: count, days: count, hours: count, minutes: count, seconds: count })
  .partial()
  .refine((period) => Object.values(period).some((value) => value > 0), { message: 'must be a positive period' })
  .meta({ id: 'ValidityPeriod' });
export type ValidityPeriod = z.infer<typeof validityPeriodSchema>;

const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a hex colour like #1A2B3C');
export const brandingSchema = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    description: z.string().max(1000).optional(),
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

export const configurationInputSchema = z
  .strictObject({
    type: z.string().min(1).max(1024).describe('The SD-JWT VC `vct`'),
    name: z.string().min(1).max(200).optional(),
    description: z.string().max(1000).optional(),
    claimMappings: z.record(claimName, claimMappingSchema).default({}),
    expiresIn: validityPeriodSchema.optional(),
    branding: brandingSchema.optional(),
  })
  .meta({ id: 'SdJwtConfigurationRequest' });
export type ConfigurationInput = z.infer<typeof configurationInputSchema>;

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
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'SdJwtConfiguration' });
export type Configuration = z.infer<typeof configurationSchema>;

/** Adds a validity period to a date, calendar-aware for years and months (UTC). */
export function addPeriod(from: Date, period: ValidityPeriod): Date {
  const date = new Date(from);
  date.setUTCFullYear(date.getUTCFullYear() + (period.years ?? 0), date.getUTCMonth() + (period.months ?? 0));
  const seconds = (((period.weeks ?? 0) * 7 + (period.days ?? 0)) * 24 + (period.hours ?? 0)) * 3600 + (period.minutes ?? 0) * 60 + (period.seconds ?? 0);
  return new Date(date.getTime() + seconds * 1000);
}
