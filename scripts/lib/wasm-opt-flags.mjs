// The widget's wasm-opt passes (scripts/lib/wasm-opt-widget.flags, which build-widget.sh uses
// too), for the size account's named copy: the same passes, keeping names (no --strip-debug).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const WASM_OPT_FLAGS = readFileSync(join(import.meta.dirname, 'wasm-opt-widget.flags'), 'utf8')
  .trim().split(/\s+/).filter((f) => f !== '--strip-debug');
