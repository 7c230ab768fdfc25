'use strict';
const fs = require('fs');
const path = require('path');
const kleur = require('kleur');

kleur.enabled = false;
const file = path.join(__dirname, 'state', 'visits.txt');
let n = 0;
try {
  n = parseInt(fs.readFileSync(file, 'utf8'), 10) || 0;
} catch (err) {
  if (err.code !== 'ENOENT') throw err;
}
n += 1;
fs.writeFileSync(file, String(n));
console.log(kleur.bold(`visit ${n}`));
