'use strict';
const fs = require('fs');
const path = require('path');
const { formatDuration } = require('date-fns');
const ms = require('ms');

// read at run time, next to the build output: the report template and the objectives
const template = fs.readFileSync(path.join(__dirname, '..', 'templates', 'report.txt'), 'utf8');
const { windowDays, objectives } = require('../config/slo.json');

const window = ms(`${windowDays}d`);
const lines = objectives.map((slo) => {
  const budget = Math.round(window * (100 - slo) / 100);
  return `${slo}%: ${ms(budget, { long: true })}`;
});
process.stdout.write(template
  .replace('{{version}}', __VERSION__)
  .replace('{{window}}', formatDuration({ days: windowDays }))
  .replace('{{budgets}}', lines.join('\n')));
