'use strict';
// Build step: stamp the package version into the source and write it to out/.
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const { version } = require(path.join(root, 'package.json'));
const src = fs.readFileSync(path.join(root, 'src', 'report.js'), 'utf8');
fs.mkdirSync(path.join(root, 'out'), { recursive: true });
fs.writeFileSync(path.join(root, 'out', 'report.js'), src.replace('__VERSION__', JSON.stringify(version)));
