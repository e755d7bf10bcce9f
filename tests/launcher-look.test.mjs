// The launcher-look rule lives on both sides of the app's boundary: edgechat-core's
// `parse_launcher_look` (the app) and widget/look.ts (embed.js, before the app loads). This test
// holds the two to the same answers, so that the launcher never changes when the app takes over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { ROOT } from './support/worker.mjs';

const CASES = [
  '', ' ', 'left', ' left', ' right', '#0263E0 right', '#e01e5a left', '#E01E5A left extra',
  '#abc left', '#0263e0ff left', '#12345 left', '#1234567 left', '#gggggg left', 'red;x:y left',
  '#0263E0', '#0263E0  left', '#0263E0 Left', 'javascript:alert(1) left', '#0263E0\tleft',
];

test('embed.js and the app read a stored launcher look the same way', async () => {
  const run = spawnSync('cargo', ['run', '--quiet', '-p', 'edgechat-core', '--example', 'launcher-look'], {
    cwd: ROOT, input: CASES.join('\n') + '\n', encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  const rust = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const { code } = transformSync(readFileSync(join(ROOT, 'widget/look.ts'), 'utf8'), { loader: 'ts', format: 'esm' });
  const { parseLook } = await import(`data:text/javascript,${encodeURIComponent(code)}`);
  assert.equal(rust.length, CASES.length);
  CASES.forEach((stored, i) => assert.deepEqual(parseLook(stored), rust[i], `${JSON.stringify(stored)}`));
  assert.deepEqual(parseLook('#E01E5A left'), ['#E01E5A', true], 'a site config look is kept');
});
