import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MDL_CLAIMS, MDL_CONFIGURATION } from './support/mdoc.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

// `npm run wallet -- '<offer URI>'`, run as a person runs it, against an issuer serving real HTTP.

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the wallet as a process, `input` piped to its stdin (then closed). */
function runWallet(args: string[], options: { viaNpm?: boolean; input?: string } = {}): Promise<Run> {
  const [command, argv] = options.viaNpm ? ['npm', ['run', '--silent', 'wallet', '--', ...args]] : [process.execPath, ['--import', 'tsx', 'src/demo-wallet/cli.ts', ...args]];
  const child = spawn(command as string, argv as string[], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the wallet did not finish: ${stderr}`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let issuer: TestIssuer;
let identityId: string;
beforeAll(async () => {
  issuer = await startTestIssuer({ listen: true });
  identityId = (
    await issuer.client.createConfiguration({
      type: 'https://credentials.example.com/identity',
      claimMappings: { given_name: { mapFrom: 'claims.givenName', required: true }, family_name: { mapFrom: 'claims.familyName', required: true } },
    })
  ).id;
});
afterAll(() => issuer.close());

const claims = { givenName: 'Ada', familyName: 'Lovelace' };

describe('npm run wallet', () => {
  it('redeems an offer by value with its transaction code and prints the SD-JWT VC decoded: signed claims, disclosures, all claims', async () => {
    const offer = await issuer.client.createOffer({ credentials: [identityId], claims, transactionCodeConfiguration: {} });
    const run = await runWallet([offer.uri, '--tx-code', String(offer.transactionCode)], { viaNpm: true });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Offer from ${issuer.url}: ${identityId}`);
    expect(run.stderr).toMatch(/Redeemed the pre-authorized code: a DPoP access token/);
    expect(run.stdout).toMatch(new RegExp(`^1 credential\\(s\\) from ${issuer.url}, bound to holder key [\\w-]{43}$`, 'm'));
    expect(run.stdout).toContain(`${identityId} (dc+sd-jwt)`);
    expect(run.stdout).toContain('    vct: "https://credentials.example.com/identity"');
    expect(run.stdout).toMatch(/Disclosures \(2, each selectively disclosable\):\n {4}(given_name: "Ada"\n {4}family_name: "Lovelace"|family_name: "Lovelace"\n {4}given_name: "Ada")/);
    expect(run.stdout).toMatch(/"given_name": "Ada"/);
    const { rows } = await issuer.database.pool.query('SELECT status FROM offers WHERE id = $1', [offer.id]);
    expect(rows[0].status).toBe('redeemed');
  });

  it('fetches an offer by reference, asks for the transaction code when none is given, and prints an mDoc by name space', async () => {
    await issuer.client.activeIaca();
    const mdl = await issuer.client.createMdocConfiguration(MDL_CONFIGURATION);
    const offer = await issuer.client.createOffer({ credentials: [mdl.id, identityId], claims: MDL_CLAIMS, byReference: true, transactionCodeConfiguration: { description: 'Sent by SMS' } });
    expect(offer.uri).toContain('credential_offer_uri=');
    const run = await runWallet([offer.uri], { input: `${offer.transactionCode}\n` });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('Transaction code (6 digits; Sent by SMS): ');
    expect(run.stdout).toMatch(/^2 credential\(s\)/m);
    expect(run.stdout).toContain(`${mdl.id} (mso_mdoc)`);
    expect(run.stdout).toContain('  docType: org.iso.18013.5.1.mDL');
    expect(run.stdout).toContain('  Name space org.iso.18013.5.1:');
    expect(run.stdout).toContain('    family_name: "Doe"');
    expect(run.stdout).toContain('    birth_date: "1990-04-12"');
    expect(run.stdout).toContain('    portrait: "<22 bytes ffd8ffe000104a46…>"');
    expect(run.stdout).toContain('    age_over_18: true');
    expect(run.stdout).toContain(`${identityId} (dc+sd-jwt)`);
  });

  it('says what went wrong: a wrong transaction code (with the attempts left), a missing one, a bad URI', async () => {
    const offer = await issuer.client.createOffer({ credentials: [identityId], claims, transactionCodeConfiguration: {} });
    const wrong = String(offer.transactionCode).startsWith('9') ? '100000' : '999999';
    const refused = await runWallet([offer.uri, '--tx-code', wrong]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('wallet: redeeming the pre-authorized code failed: HTTP 400 invalid_grant: Wrong transaction code; 2 attempts left before the offer is locked');

    const silent = await runWallet([offer.uri]);
    expect(silent.code).toBe(1);
    expect(silent.stderr).toContain('wallet: This offer needs a transaction code: pass --tx-code');

    const bad = await runWallet(['not a uri']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/wallet: Not an offer URI/);
    expect((await runWallet([])).code).toBe(2);
  });

  it('uses a Bearer token with --no-dpop, and DPoP when the issuer requires it', async () => {
    const offer = await issuer.client.createOffer({ credentials: [identityId], claims });
    const bearer = await runWallet([offer.uri, '--no-dpop']);
    expect(bearer.code, bearer.stderr).toBe(0);
    expect(bearer.stderr).toMatch(/a Bearer access token/);

    const strict = await startTestIssuer({ listen: true, env: { DPOP: 'required' } });
    try {
      const id = (await strict.client.createConfiguration()).id;
      const strictOffer = await strict.client.createOffer({ credentials: [id], claims: { name: 'Ada' } });
      const run = await runWallet([strictOffer.uri]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/a DPoP access token/);
      const refused = await runWallet([(await strict.client.createOffer({ credentials: [id], claims: { name: 'Ada' } })).uri, '--no-dpop']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/redeeming the pre-authorized code failed: HTTP 400 invalid_dpop_proof/);
    } finally {
      await strict.close();
    }
  });
});
