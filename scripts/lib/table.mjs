/** Prints `rows` as a markdown table (BENCHMARKS.md is markdown). */
export function markdownTable(rows) {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v) => (v === undefined ? '' : String(v));
  console.log(`| ${columns.join(' | ')} |\n|${columns.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${columns.map((c) => cell(r[c])).join(' | ')} |`);
}
