'use strict';
const { formatDuration } = require('date-fns');
const ms = require('ms');

const WINDOW = ms('30d');
const SLOS = [99.9, 99.5, 99];

console.log(`uptime-budget ${__VERSION__}`);
console.log(`window: ${formatDuration({ days: 30 })}`);
for (const slo of SLOS) {
  const budget = Math.round(WINDOW * (100 - slo) / 100);
  console.log(`${slo}% over 30d: ${ms(budget, { long: true })} of downtime`);
}
