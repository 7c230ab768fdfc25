'use strict';
const ms = require('ms');

const ttls = { 'apt lists': '1d', 'pip wheels': '7d', 'layer cache': '12h' };
for (const [what, ttl] of Object.entries(ttls)) {
  console.log(`${what}: ${ms(ms(ttl), { long: true })}`);
}
