import { z } from 'zod';
import { NOTIFICATION_EVENTS } from '../protocol.js';
import { STATUS_NAMES } from '../status-lists/encoding.js';

const statusName = z.enum(STATUS_NAMES);

/**
 * The record of an issued credential (MATTR VII's user credentials): who, from which offer and
 * configuration, bound to which key, valid when, and its status. Never a claim value.
 */
export const issuedCredentialSchema = z
  .object({
    id: z.uuid().describe('The credentialId'),
    profile: z.enum(['sd-jwt', 'mobile']),
    format: z.string(),
    type: z.string().describe('vct of an SD-JWT VC, docType of an mDoc'),
    userId: z.uuid(),
    offerId: z.uuid(),
    credentialConfigurationId: z.uuid(),
    holderKeyThumbprint: z.string().describe('RFC 7638 thumbprint of the key the credential is bound to'),
    issuedDate: z.iso.datetime(),
    validFrom: z.iso.datetime(),
    validUntil: z.iso.datetime().nullable(),
    status: statusName.nullable().describe('null: issued without a status list entry (includeStatus was off)'),
    statusList: z.object({ uri: z.string(), index: z.number().int() }).nullable(),
    walletNotification: z
      .object({ event: z.enum(NOTIFICATION_EVENTS), at: z.iso.datetime() })
      .nullable()
      .describe('What the wallet last said became of it (OpenID4VCI 1.0 §11)'),
  })
  .meta({ id: 'IssuedCredential' });
export type IssuedCredentialRecord = z.infer<typeof issuedCredentialSchema>;

export const statusBodySchema = z.strictObject({ status: statusName }).meta({ id: 'CredentialStatus', examples: [{ status: 'suspended' }] });
export type StatusBody = z.infer<typeof statusBodySchema>;

export const bulkStatusResultSchema = z
  .object({
    status: statusName,
    updated: z.number().int().describe('Credentials whose status changed'),
    unchanged: z.number().int().describe('Credentials that had this status already'),
    refused: z.number().int().describe('Credentials whose status cannot become this one: invalid is final, and suspended needs a 2-bit list'),
    withoutStatus: z.number().int().describe('Credentials issued without a status list entry'),
  })
  .meta({ id: 'BulkCredentialStatus' });
export type BulkStatusResult = z.infer<typeof bulkStatusResultSchema>;
