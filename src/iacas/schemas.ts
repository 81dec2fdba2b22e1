import { z } from 'zod';

/** Management API paths (MATTR VII's). */
export const IACAS_PATH = '/v2/credentials/mobile/iacas';
export const DOCUMENT_SIGNERS_PATH = '/v2/credentials/mobile/document-signers';

const MANAGED_FIELDS = ['commonName', 'country', 'stateOrProvinceName', 'notBefore', 'notAfter'] as const;

/** Managed (`country` and the rest: the service makes the key and certificate) or unmanaged (`certificatePem` alone). */
export const createIacaSchema = z
  .strictObject({
    certificatePem: z.string().min(1).max(20_000).optional().describe('Unmanaged: the IACA certificate (PEM) of a key you keep offline'),
    commonName: z.string().trim().min(1).max(64).optional().describe('Managed: the subject CN (default: ISSUER_NAME followed by "IACA")'),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code, such as "US"')
      .optional()
      .describe('Managed: the subject C, ISO 3166-1 alpha-2 (required)'),
    stateOrProvinceName: z
      .string()
      .regex(/^[A-Z]{2}-[A-Z0-9]{1,3}$/, 'must be an ISO 3166-2 code, such as "US-CA"')
      .optional()
      .describe('Managed: the subject ST, ISO 3166-2 within country'),
    notBefore: z.iso.datetime({ offset: true }).optional().describe('Managed: not in the past (default: now)'),
    notAfter: z.iso.datetime({ offset: true }).optional().describe('Managed: at most 20 years after notBefore (default: 10 years)'),
  })
  .superRefine((body, ctx) => {
    if (body.certificatePem !== undefined) {
      for (const field of MANAGED_FIELDS) {
        if (body[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: "must not be given with certificatePem: an unmanaged IACA's subject and validity are its certificate's" });
      }
      return;
    }
    if (body.country === undefined) ctx.addIssue({ code: 'custom', path: ['country'], message: 'is required for a managed IACA (or give certificatePem for an unmanaged one)' });
    else if (body.stateOrProvinceName?.match(/^[A-Z]{2}-/) && !body.stateOrProvinceName.startsWith(`${body.country}-`)) {
      ctx.addIssue({ code: 'custom', path: ['stateOrProvinceName'], message: `must be a subdivision of ${body.country} (${body.country}-…)` });
    }
  })
  .meta({ id: 'CreateIacaRequest', examples: [{ country: 'US', stateOrProvinceName: 'US-CA', commonName: 'Example DMV IACA' }] });
export type CreateIacaInput = z.infer<typeof createIacaSchema>;

export const updateIacaSchema = z.strictObject({ active: z.boolean() }).meta({ id: 'UpdateIacaRequest', examples: [{ active: true }] });

export const certificateDataSchema = z
  .object({
    notBefore: z.iso.datetime(),
    notAfter: z.iso.datetime(),
    country: z.string(),
    stateOrProvinceName: z.string().optional(),
    commonName: z.string().optional(),
    serialNumber: z.string().describe('Hexadecimal'),
  })
  .meta({ id: 'CertificateData' });

export const iacaSchema = z
  .object({
    id: z.uuid(),
    active: z.boolean(),
    isManaged: z.boolean().describe('Whether the service holds the key (managed) or its owner keeps it offline'),
    certificatePem: z.string(),
    certificateData: certificateDataSchema,
    certificateFingerprint: z.string().describe('SHA-256 of the certificate (DER), hexadecimal'),
  })
  .meta({ id: 'Iaca' });
export type Iaca = z.infer<typeof iacaSchema>;

export const createDocumentSignerSchema = z
  .strictObject({ iacaId: z.uuid() })
  .meta({ id: 'CreateDocumentSignerRequest', examples: [{ iacaId: '0195f3c2-8a4e-7c61-9d2b-3f6a1e5b7c90' }] });

export const updateDocumentSignerSchema = z
  .strictObject({
    active: z.boolean(),
    certificatePem: z.string().min(1).max(20_000).optional().describe("Unmanaged IACA: the certificate its owner issued for this signer's CSR"),
  })
  .meta({ id: 'UpdateDocumentSignerRequest', examples: [{ active: true }] });
export type UpdateDocumentSignerInput = z.infer<typeof updateDocumentSignerSchema>;

export const documentSignerSchema = z
  .object({
    id: z.uuid(),
    iacaId: z.uuid(),
    active: z.boolean(),
    isManaged: z.boolean().describe('Whether the service issued its certificate (its IACA is managed)'),
    csrPem: z.string().optional().describe('Unmanaged IACA: the PKCS#10 request for its owner to sign'),
    certificatePem: z.string().optional(),
    certificateData: certificateDataSchema.optional(),
    certificateFingerprint: z.string().optional(),
    revoked: z.boolean(),
    revocationDate: z.iso.datetime().optional(),
  })
  .meta({ id: 'DocumentSigner' });
export type DocumentSigner = z.infer<typeof documentSignerSchema>;

export const revocationSchema = z.object({ revoked: z.literal(true), revocationDate: z.iso.datetime() }).meta({ id: 'DocumentSignerRevocation' });
