export const ROLES = ['admin', 'issuer', 'managed-issuer', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Who may call a management route. Each route names its roles in `config.roles`; the README's table is checked against them. */
export const ADMIN: readonly Role[] = ['admin'];
export const ISSUERS: readonly Role[] = ['admin', 'issuer'];
export const ALL_ISSUERS: readonly Role[] = ['admin', 'issuer', 'managed-issuer'];
export const AUDITORS: readonly Role[] = ['admin', 'auditor'];

export interface Principal {
  /** The API key's id, or `env:ADMIN_API_KEY` for the key from the environment. */
  keyId: string;
  role: Role;
}
