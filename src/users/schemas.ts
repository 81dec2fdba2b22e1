import { z } from 'zod';
import { claimsSchema } from '../claims/claim-data.js';

export const userSchema = z.object({ id: z.uuid(), claims: claimsSchema }).meta({ id: 'User' });
export type User = z.infer<typeof userSchema>;
