// The launcher's look as the app stores it for the next page view ("<brand> <side>", written by
// the widget with edgechat-core's `launcher_look`): embed.js reads it to draw its launcher before
// the app loads. The same rule as core's `parse_launcher_look`, which tests/launcher-look.test.mjs
// holds it to: a brand colour only as #rrggbb (what a site config allows), the side only "left".
export function parseLook(stored: string): [string | null, boolean] {
  const space = stored.indexOf(' ');
  const brand = space < 0 ? stored : stored.slice(0, space);
  const side = space < 0 ? '' : stored.slice(space + 1);
  return [/^#[0-9a-fA-F]{6}$/.test(brand) ? brand : null, side === 'left'];
}
