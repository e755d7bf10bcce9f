// The widget's byte budgets (gzip -9, as built by scripts/build-widget.sh), read from their one
// place (scripts/lib/budgets.mjs). Bytes, not time: stable on any machine. `npm run bench`
// reports raw, gzip and brotli, and the size account (what each crate and function costs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { ROOT } from './support/worker.mjs';
import { EMBED_GZIP_BYTES, WIDGET_CEILING_KIB, WIDGET_MAX_KIB } from '../scripts/lib/budgets.mjs';
import { builtFiles } from '../scripts/lib/files.mjs';

const gzip = (path) => gzipSync(readFileSync(join(ROOT, path)), { level: 9 }).length;
const files = builtFiles();

test(`embed.js, the only eager download, is at most ${EMBED_GZIP_BYTES} bytes gzip`, () => {
  const size = gzip(files.embed);
  console.log(`embed.js: ${size} bytes gzip`);
  assert.ok(size <= EMBED_GZIP_BYTES, `embed.js is ${size} bytes gzip, over ${EMBED_GZIP_BYTES}`);
});

test(`the widget fetched on open (wasm with its CSS, and its JS glue) is at most ${WIDGET_CEILING_KIB} KiB gzip`, () => {
  assert.ok(WIDGET_CEILING_KIB <= WIDGET_MAX_KIB, 'the ceiling is within the round\'s maximum');
  const size = gzip(files.wasm) + gzip(files.module);
  console.log(`widget on open: ${(size / 1024).toFixed(1)} KiB gzip (ceiling ${WIDGET_CEILING_KIB})`);
  assert.ok(size <= WIDGET_CEILING_KIB * 1024, `the widget is ${(size / 1024).toFixed(1)} KiB gzip`);
});

test('embed.js names the files this build made, and each is there', () => {
  const embed = readFileSync(join(ROOT, files.embed), 'utf8');
  for (const path of [files.module, files.wasm, files.sdk]) {
    const name = path.split('/').pop();
    assert.match(name, /\.[0-9a-f]{12}\./, `${name} carries a content hash`);
    assert.ok(embed.includes(JSON.stringify(name)), `embed.js names ${name}`);
    readFileSync(join(ROOT, path));
  }
});
