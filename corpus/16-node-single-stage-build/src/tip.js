'use strict';
// Split a bill between people, with a tip, rounding each share up to the cent.
function split(totalCents, people, tipPercent) {
  const withTip = Math.round(totalCents * (100 + tipPercent) / 100);
  const share = Math.ceil(withTip / people);
  return { withTip, share };
}

function euros(cents) {
  return (cents / 100).toFixed(2);
}

const [total = '84.50', people = '3', tip = '15'] = process.argv.slice(2);
const result = split(Math.round(parseFloat(total) * 100), parseInt(people, 10), parseFloat(tip));
console.log(`total with tip: ${euros(result.withTip)}`);
console.log(`each of ${people}: ${euros(result.share)}`);
