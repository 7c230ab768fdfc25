'use strict';
const ms = require('ms');

const base = ms(process.argv[2] || '500ms');
const tries = parseInt(process.argv[3] || '5', 10);
for (let i = 0; i < tries; i++) {
  console.log(`try ${i + 1}: wait ${ms(base * 2 ** i)}`);
}
