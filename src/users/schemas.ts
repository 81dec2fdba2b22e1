import { z } from 'zod';

export const claimsSchema = z.record(z.string().min(1).max(256), z.json()).meta({ id: 'Claims' });
export type Claims = z.infer<typeof claimsSchema>;

export const userSchema = z.object({ id: z.uuid(), claims: claimsSchema }).meta({ id: 'User' });
export type User = z.infer<typeof userSchema>;
