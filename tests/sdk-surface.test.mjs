// The SDK surface the widget binds (widget/sdk-surface.ts) against the real SDK's own type
// declarations (@twilio/conversations 3.0.1), and the host page API's published declaration
// (public/edgechat.d.ts: the README's uses compile, misuses do not): `tsc --noEmit` over
// tests/sdk-types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './support/worker.mjs';

test('the real SDK\'s declarations satisfy widget/sdk-surface.ts, and edgechat.d.ts types the host API (tsc --noEmit)', () => {
  const tsc = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tests/sdk-types/tsconfig.json'],
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
});
