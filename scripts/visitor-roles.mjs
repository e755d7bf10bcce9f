// `node scripts/visitor-roles.mjs --service IS…`: gives the service's visitors least privilege
// (scripts/lib/visitor-roles.mjs) with the account credentials in the environment or in
// .dev.vars (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_BASE for the local emulator).
// `npm start` runs it against the emulator; `npm run deploy` does the same for Twilio.
import { readFileSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { accountClient } from './lib/twilio-account.mjs';
import { planVisitorRoles, applyVisitorRoles } from './lib/visitor-roles.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { service } = parseArgs({ options: { service: { type: 'string' } } }).values;
if (!service) {
  console.error('usage: node scripts/visitor-roles.mjs --service IS…');
  process.exit(2);
}
const vars = { ...process.env };
const file = join(ROOT, '.dev.vars');
if (!vars.TWILIO_AUTH_TOKEN && existsSync(file)) {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]] = m[2];
  }
}
const changes = await planVisitorRoles(accountClient(vars), service);
await applyVisitorRoles(changes);
console.log(changes.length ? changes.map((c) => `    set ${c.detail}`).join('\n') : '    already set');
