'use strict';
const { formatDistanceStrict } = require('date-fns');
const kleur = require('kleur');

// Colours only when asked: the smoke test compares plain text.
kleur.enabled = process.env.FORCE_COLOR === '1';

const services = [
  { name: 'api', ok: true },
  { name: 'worker', ok: false, downSince: 0, checkedAt: 180000 },
  { name: 'cron', ok: true },
];

for (const s of services) {
  const mark = s.ok ? kleur.green('up') : kleur.red('DOWN');
  const since = s.ok ? '' : ` for ${formatDistanceStrict(s.checkedAt, s.downSince)}`;
  console.log(`${s.name.padEnd(8)}${mark}${since}`);
}
const down = services.filter((s) => !s.ok).length;
console.log(`${services.length - down}/${services.length} up`);
