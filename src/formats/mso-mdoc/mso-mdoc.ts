import { z } from 'zod';
import { forbiddenKeyMessage, isForbiddenClaimKey } from '../../claims/claim-data.js';
import { COSE_ALG_ES256, CREDENTIAL_SIGNING_ALG, PROOF_SIGNING_ALGS } from '../../protocol.js';
import {
  IssuanceDenied,
  brandingSchema,
  statusClaim,
  statusOptionsInput,
  statusOptionsOutput,
  claimDisplay,
  displayOf,
  validityPeriodSchema,
  type ConfigurationRecord,
  type CredentialFormat,
  type IssuedCredential,
} from '../format.js';
import { elementMappingSchema, resolveElements, signerMismatch, type NamespaceMappings } from './claims.js';
import { signIssuerSigned } from './mso.js';
import { mdocValidity, validityProblems } from './validity.js';

/** OID4VCI 1.0 Appendix A.2, draft 13 Appendix A.2. */
export const MSO_MDOC = 'mso_mdoc';

/** Namespaces and element identifiers become keys of JavaScript objects along the way. */
const identifier = z
  .string()
  .min(1)
  .max(256)
  .refine((name) => !isForbiddenClaimKey(name), { error: (issue) => forbiddenKeyMessage(String(issue.input)) });

const dateTime = z.iso.datetime({ offset: true });

export const configurationInputSchema = z
  .strictObject({
    type: z
      .string()
      .min(1)
      .max(1024)
      .refine((type) => type !== 'VerifiableCredential', { message: 'must be an mDoc docType, such as org.iso.18013.5.1.mDL' })
      .describe('The docType (unique among mDoc configurations)'),
    name: z.string().min(1).max(200).optional(),
    description: z.string().max(1000).optional(),
    claimMappings: z
      .record(identifier, z.record(identifier, elementMappingSchema))
      .default({})
      .describe('By namespace, then element identifier: { "org.iso.18013.5.1": { "family_name": { "mapFrom": "claims.familyName", "required": true, "type": "string" } } }'),
    expiresIn: validityPeriodSchema.optional().describe('How long each mDoc is valid from its validFrom (default 365 days)'),
    validFrom: dateTime.optional().describe('mDocs are valid from then (or from when they are signed, if later)'),
    validUntil: dateTime.optional().describe('mDocs are valid until then (wins over expiresIn)'),
    branding: brandingSchema.optional(),
    ...statusOptionsInput,
  })
  .superRefine((input, ctx) => {
    for (const problem of validityProblems(input, new Date())) ctx.addIssue({ code: 'custom', path: [problem.path], message: problem.message });
  })
  .meta({
    id: 'MdocConfigurationRequest',
    examples: [
      {
        type: 'com.example.membership.1',
        name: 'Membership card',
        claimMappings: {
          'com.example.membership.1': {
            family_name: { mapFrom: 'claims.familyName', required: true },
            given_name: { mapFrom: 'claims.givenName', required: true },
            member_since: { mapFrom: 'claims.memberSince', type: 'date' },
          },
        },
        expiresIn: { days: 365 },
      },
    ],
  });

export const configurationSchema = z
  .object({
    id: z.uuid(),
    format: z.literal(MSO_MDOC),
    type: z.string().describe('The docType'),
    name: z.string().optional(),
    description: z.string().optional(),
    claimMappings: z.record(z.string(), z.record(z.string(), elementMappingSchema)),
    expiresIn: validityPeriodSchema.optional(),
    validFrom: z.iso.datetime().optional(),
    validUntil: z.iso.datetime().optional(),
    branding: brandingSchema.optional(),
    ...statusOptionsOutput,
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'MdocConfiguration' });

const mappingsOf = (configuration: ConfigurationRecord) => configuration.claimMappings as NamespaceMappings;
const elementsOf = (configuration: ConfigurationRecord) =>
  Object.entries(mappingsOf(configuration)).flatMap(([namespace, elements]) => Object.entries(elements).map(([element, mapping]) => ({ namespace, element, mapping })));

/** ISO/IEC 18013-5 mDocs (format `mso_mdoc`): IssuerSigned, signed by a document signer under an IACA. */
export const msoMdoc: CredentialFormat = {
  id: MSO_MDOC,
  title: 'mDoc',
  managementPath: 'mobile',
  configurationInput: configurationInputSchema,
  configurationOutput: configurationSchema,
  draft13Formats: [MSO_MDOC],
  statusListKind: 'cwt',

  // Draft 13 Appendix A.2.5: `format` and `doctype`.
  namedByDraft13Request: (request, configuration) => request.doctype === configuration.type,

  claimProblems: (configuration, source) => resolveElements(mappingsOf(configuration), source).problems,

  /**
   * 1.0 (Appendix A.2.2) has the algorithm as a COSE number and the claims as paths [namespace,
   * element] in credential_metadata; draft 13 had a JOSE name, and display, claims by namespace and
   * order at the top. A document for both leaves the algorithm out, since no value is valid in both:
   * @openid4vc/openid4vci's 1.0 schema for mso_mdoc takes numbers only (with a string the configuration
   * is invalid to it and its wallet will not request it), and @animo-id/oid4vci's draft 13 schema
   * takes strings only and with a number refuses the whole metadata document. The member is optional.
   * (test/mdoc-metadata.test.ts shows both.)
   */
  metadataEntry(configuration, _config, dialect) {
    const display = displayOf(configuration);
    const elements = elementsOf(configuration);
    const common = {
      format: MSO_MDOC,
      doctype: configuration.type,
      scope: configuration.id,
      cryptographic_binding_methods_supported: ['cose_key'],
      proof_types_supported: { jwt: { proof_signing_alg_values_supported: [...PROOF_SIGNING_ALGS] } },
    };
    const v1 = {
      credential_metadata: {
        display,
        claims: elements.map(({ namespace, element, mapping }) => ({ path: [namespace, element], mandatory: mapping.required, display: claimDisplay(element, mapping.display) })),
      },
    };
    const claims: Record<string, Record<string, unknown>> = {};
    for (const { namespace, element, mapping } of elements) (claims[namespace] ??= {})[element] = { mandatory: mapping.required, display: claimDisplay(element, mapping.display) };
    const draft13 = { display, claims, order: elements.map(({ namespace, element }) => `${namespace}~${element}`) };
    if (dialect === '1.0') return { ...common, credential_signing_alg_values_supported: [COSE_ALG_ES256], ...v1 };
    if (dialect === 'draft13') return { ...common, credential_signing_alg_values_supported: [CREDENTIAL_SIGNING_ALG], ...draft13 };
    return { ...common, ...v1, ...draft13 };
  },

  /** One IssuerSigned per holder key, each with its own randoms and digest ids, its device key the proof's key. */
  async issue(deps, { configuration, source, holders, issuedAt }) {
    const { elements, problems } = resolveElements(mappingsOf(configuration), source);
    if (problems.length) throw new IssuanceDenied(`The claims cannot make this mDoc: ${problems.map((problem) => `${problem.field} ${problem.message}`).join('; ')}`);
    const signer = await deps.documentSigner();
    const mismatch = signerMismatch(elements, signer);
    if (mismatch) throw new IssuanceDenied(mismatch);
    const validity = mdocValidity(configuration, issuedAt, signer.notAfter);
    if ('problem' in validity) throw new IssuanceDenied(validity.problem);
    if (validity.signed < signer.notBefore) throw new IssuanceDenied('The document signer certificate is not valid yet');

    const nameSpaces = new Map<string, Map<string, unknown>>();
    for (const { namespace, identifier: element, value } of elements) {
      if (!nameSpaces.has(namespace)) nameSpaces.set(namespace, new Map());
      nameSpaces.get(namespace)!.set(element, value);
    }
    const statuses = await deps.statusReferences({ reference: signer.reference, expiresAt: signer.notAfter }, holders.length);
    return holders.map((holder, index): IssuedCredential => {
      const status = statuses?.[index];
      const issuerSigned = signIssuerSigned({
        docType: configuration.type,
        nameSpaces,
        deviceKey: { x: holder.jwk.x!, y: holder.jwk.y! },
        signer: { privateKey: signer.privateKey, certificate: signer.certificate },
        ...validity,
        ...(status && { status: statusClaim(status) }),
      });
      // OID4VCI 1.0 Appendix A.2.4: the credential is base64url of the IssuerSigned CBOR.
      return {
        credential: issuerSigned.toString('base64url'),
        holderKeyThumbprint: holder.thumbprint,
        issuerKid: signer.reference,
        validFrom: validity.validFrom,
        expiresAt: validity.validUntil,
        ...(status && { status }),
      };
    });
  },
};
