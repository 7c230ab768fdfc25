'use strict';
// Runs after every install: turns src/banner.txt into src/banner.generated.json.
const fs = require('fs');
const path = require('path');

const src = path.join(__dirname, '..', 'src');
const lines = fs.readFileSync(path.join(src, 'banner.txt'), 'utf8').trim().split('\n');
fs.writeFileSync(path.join(src, 'banner.generated.json'), JSON.stringify({ lines }));
