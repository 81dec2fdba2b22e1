import pino, { type Logger } from 'pino';
import type { Config } from './config.js';

/** Paths and keys pino must never print (values are replaced, the keys stay visible). */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'key',
  '*.key',
  'apiKey',
  'pre-authorized_code',
  '*["pre-authorized_code"]',
  'tx_code',
  '*.tx_code',
  'transactionCode',
  '*.transactionCode',
  'access_token',
  '*.access_token',
  'c_nonce',
  '*.c_nonce',
  'proof',
  '*.proof',
  'proofs',
  '*.proofs',
  'claims',
  '*.claims',
  'credential',
  '*.credential',
];

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'vci-issuer' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ sync: false }),
  );
}
