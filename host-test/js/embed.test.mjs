// The embedding recipe of the README (embed.mjs) runs as written.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { readPayouts } from './embed.mjs';
import { connector } from './out/klarna_connector.js';
import { startSimulator } from './simulator.mjs';

let simulator;
before(async () => {
  simulator = await startSimulator(JSON.parse(connector.describe()).hosts.allowed);
});
after(() => simulator?.stop());

test('the jco embedding recipe opens, tests and reads one page of payouts', () => {
  const { payouts, more } = readPayouts({ username: 'PK46120_sim0a1b2c3d', password: 'sim-pass-7f3c9e21' });
  assert.equal(payouts.length, 5);
  assert.ok(payouts.every((payout) => typeof payout.payment_reference === 'string'), JSON.stringify(payouts[0]));
  assert.equal(more, true);
  assert.throws(
    () => readPayouts({ username: 'PK46120_sim0a1b2c3d', password: 'wrong' }),
    (error) => error.payload?.tag === 'unauthorized',
  );
});
