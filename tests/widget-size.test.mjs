// The widget's byte budgets (gzip -9, as built by scripts/build-widget.sh). Bytes, not time:
// stable on any machine. `npm run bench` reports raw, gzip and brotli.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { ROOT } from './support/worker.mjs';

const gzip = (path) => gzipSync(readFileSync(join(ROOT, path)), { level: 9 }).length;

test('embed.js, the only eager download, is at most 2 KiB gzip', () => {
  const size = gzip('public/embed.js');
  console.log(`embed.js: ${size} bytes gzip`);
  assert.ok(size <= 2048, `embed.js is ${size} bytes gzip, over 2048`);
});

// The project first aimed for 130 KiB (README, The widget). Dioxus 0.7's runtime with std is most of the wasm (see the
// README's "Sizes"); this ceiling is today's size plus a little, so that growth is a decision.
// 170 -> 172 KiB when the widget moved onto the real SDK: its realm (an iframe in the shadow
// root) and the SDK's renewal rules cost 2.5 KiB, which left no headroom (byte-level output varies
// slightly between checkouts). 172 -> 177 KiB when the view became small components with the
// log's rows derived by `use_memo` (a keystroke with 500 messages went from 22 ms of script to
// 0.4 ms): Dioxus' memo runtime 2.3 KiB, components and context 2.8 KiB. 177 -> 179 KiB for what
// the exactly-once issue asked of the widget: "busy, retrying in N s" with its own retry after
// Retry-After, renewals timed from the token's lifetime, page addresses trimmed to scheme, host
// and path (1 KiB). This round allows the widget at most 180 KiB.
const WIDGET_CEILING_KIB = 179;

test(`the widget fetched on open (wasm with its CSS, and its JS glue) is at most ${WIDGET_CEILING_KIB} KiB gzip`, () => {
  const size = gzip('public/widget/edgechat_widget_bg.wasm') + gzip('public/widget/edgechat_widget.js');
  console.log(`widget on open: ${(size / 1024).toFixed(1)} KiB gzip (target 130, ceiling ${WIDGET_CEILING_KIB})`);
  assert.ok(size <= WIDGET_CEILING_KIB * 1024, `the widget is ${(size / 1024).toFixed(1)} KiB gzip`);
});
