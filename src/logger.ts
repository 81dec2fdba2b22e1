import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
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

/** LOG_FORMAT=auto: human-readable when stdout is a terminal (a person reads it), JSON lines otherwise (a collector does). */
export function prettyLogs(format: Config['logFormat'], stdoutIsTerminal = Boolean(process.stdout.isTTY)): boolean {
  return format === 'pretty' || (format === 'auto' && stdoutIsTerminal);
}

/** The service's logger; `destination` (tests) gets JSON unless LOG_FORMAT=pretty says otherwise. */
export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>, destination?: pino.DestinationStream): Logger {
  const human = destination ? config.logFormat === 'pretty' : prettyLogs(config.logFormat);
  return pino(
    {
      level: config.logLevel,
      redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'vci-issuer' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    human
      ? pretty({ destination: destination ?? 1, colorize: !destination && Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'service' })
      : (destination ?? pino.destination({ sync: false })),
  );
}
