'use strict';
const ms = require('ms');
const { lines } = require('./banner.generated.json');

for (const line of lines) console.log(`* ${line}`);
console.log(`cache ttl: ${ms(ms('45m'), { long: true })}`);
