const ms = require("ms");

const deployed = [
  ["api", 90 * 60 * 1000],
  ["worker", 26 * 60 * 60 * 1000],
  ["cron", 45 * 1000],
];

for (const [name, ago] of deployed) {
  console.log(`${name.padEnd(7)} deployed ${ms(ago, { long: true })} ago`);
}
