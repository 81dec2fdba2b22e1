import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { DecodedMdoc, DecodedSdJwt } from './decode.js';
import { WalletError, receiveOffer, type ReceivedCredential, type TxCodeRequest } from './wallet.js';

// `npm run wallet -- '<offer URI>' [--tx-code 123456] [--no-dpop]`: redeems an offer as a wallet
// app would and prints what it received, decoded. Steps go to stderr, the credentials to stdout.

const USAGE = "usage: npm run wallet -- '<offer URI>' [--tx-code <code>] [--no-dpop]";

/** Reads the transaction code from the terminal (or a line of piped input); fails if input ends first. */
function askTxCode(request: TxCodeRequest): Promise<string> {
  const hint = [request.length && `${request.length} ${request.input_mode === 'text' ? 'characters' : 'digits'}`, request.description].filter(Boolean).join('; ');
  const lines = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve, reject) => {
    let answered = false;
    lines.on('close', () => answered || reject(new WalletError('This offer needs a transaction code: pass --tx-code')));
    lines.question(`Transaction code${hint ? ` (${hint})` : ''}: `, (answer) => {
      answered = true;
      lines.close();
      resolve(answer.trim());
    });
  });
}

const json = (value: unknown) => JSON.stringify(value);

function printSdJwt(decoded: DecodedSdJwt) {
  console.log('  Signed in the clear:');
  for (const [name, value] of Object.entries(decoded.signedClaims)) console.log(`    ${name}: ${json(value)}`);
  console.log(`  Disclosures (${decoded.disclosures.length}, each selectively disclosable):`);
  for (const { name, value } of decoded.disclosures) console.log(`    ${name ?? '(array element)'}: ${json(value)}`);
  console.log('  Claims with every disclosure presented:');
  console.log(JSON.stringify(decoded.claims, null, 2).replace(/^/gm, '    '));
}

function printMdoc(decoded: DecodedMdoc) {
  console.log(`  docType: ${decoded.docType}`);
  console.log(`  validity: ${json(decoded.validityInfo)}`);
  for (const [namespace, elements] of Object.entries(decoded.nameSpaces)) {
    console.log(`  Name space ${namespace}:`);
    for (const { identifier, value } of elements) console.log(`    ${identifier}: ${json(value)}`);
  }
}

function print(received: ReceivedCredential) {
  console.log(`\n${received.configurationId} (${received.format})`);
  if (received.decoded?.kind === 'sd-jwt') printSdJwt(received.decoded);
  else if (received.decoded?.kind === 'mdoc') printMdoc(received.decoded);
  else console.log(`  ${received.credential}`);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { 'tx-code': { type: 'string' }, 'no-dpop': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length !== 1) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  try {
    const result = await receiveOffer(positionals[0]!, {
      txCode: values['tx-code'],
      askTxCode,
      dpop: !values['no-dpop'],
      log: (line) => console.error(line),
    });
    console.log(`${result.credentials.length} credential(s) from ${result.credentialIssuer}, bound to holder key ${result.holderKeyThumbprint}`);
    result.credentials.forEach(print);
    return 0;
  } catch (error) {
    if (error instanceof WalletError) {
      console.error(`wallet: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main();
