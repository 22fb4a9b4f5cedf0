// The Klarna connector component under jco in Node: the same scenarios the
// wasmtime harness runs, against the same simulator (served on loopback).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash, createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import canonicalize from 'canonicalize';
import { v5 as uuidv5 } from 'uuid';

import { sent } from './http.js';
import { lines as logLines } from './log.js';
import { connector } from './out/klarna_connector.js';
import { startSimulator } from './simulator.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const USERNAME = 'PK46120_sim0a1b2c3d';
const PASSWORD = 'sim-pass-7f3c9e21';
const API_KEY = 'klarna_test_api_c2ltLWtleS0xLTdmM2M5ZTIx';
let server;
let simulator;

before(async () => {
  server = await startSimulator(JSON.parse(connector.describe()).hosts.allowed);
  simulator = server.url;
});

after(() => server?.stop());

const control = async (method, path, body) => {
  const response = await fetch(`${simulator}/__sim/${path}`, { method, body: body && JSON.stringify(body) });
  return response.status === 204 ? null : response.json();
};

const config = (apiType, overrides = {}) => ({
  apiType,
  environment: 'playground',
  region: 'eu',
  auth: { tag: 'basic', val: { username: USERNAME, password: PASSWORD } },
  settings: [],
  ...overrides,
});

const params = (path = [], payload = undefined, query = []) => ({ path, query, payload: payload && JSON.stringify(payload) });

/** The connector error a call threw, as jco delivers it. */
function failure(call) {
  try {
    call();
  } catch (error) {
    assert.ok('payload' in error, `a ComponentError, got ${error}`);
    return error.payload;
  }
  assert.fail('expected the call to fail');
}

test('describe returns connector.json minified, entities follow the API type', () => {
  // JavaScript's own minification of the file: the same value, keys in order, no whitespace.
  assert.equal(connector.describe(), JSON.stringify(JSON.parse(readFileSync(`${root}connector.json`, 'utf8'))));
  const manifest = JSON.parse(connector.describe());
  const om = connector.Connection.open(config('post-purchase'));
  const names = om.entities().map((e) => e.name);
  assert.deepEqual(names, manifest.entities.filter((e) => e.api_type === 'post-purchase').map((e) => e.name));
  const captures = om.entities().find((e) => e.name === 'order-captures');
  assert.deepEqual(captures.operations, [
    { method: 'get', path: '/ordermanagement/v1/orders/{order_id}/captures', retry: 'natural' },
    { method: 'post', path: '/ordermanagement/v1/orders/{order_id}/captures', retry: 'key' },
  ]);
  const settlements = connector.Connection.open(config('settlements'));
  assert.equal(settlements.entities().find((e) => e.name === 'transactions').paginated, true);
});

test('open refuses bad settings before sending anything', () => {
  const before = sent.length;
  const region = failure(() => connector.Connection.open(config('post-purchase', { region: 'xx' })));
  assert.equal(region.tag, 'invalid-config');
  assert.match(region.val, /^region: /);
  const setting = failure(() => connector.Connection.open(config('settlements', { settings: [['order_id', '1']] })));
  assert.equal(setting.tag, 'invalid-config');
  assert.match(setting.val, /^settings\.order_id: unknown setting/);
  assert.equal(sent.length, before);
});

test('an order lifecycle: read, capture, refund, cancel refused, release', async () => {
  const { order_id: orderId } = await control('POST', 'orders', { amount: 10000 });
  const om = connector.Connection.open(config('post-purchase'));
  om.test();
  const path = [['order_id', orderId]];
  const read = () => JSON.parse(om.subscribe({ entity: 'order', params: params(path) }).records[0]);
  assert.equal(read().status, 'AUTHORIZED');

  const capture = om.publish({ entity: 'order-captures', method: 'post', params: params(path, { captured_amount: 6000 }) });
  assert.equal(capture.status, 201);
  assert.match(capture.id, /^[0-9a-f-]{36}$/);
  const replay = om.publish({ entity: 'order-captures', method: 'post', params: params(path, { captured_amount: 6000 }) });
  assert.equal(replay.id, capture.id, 'a re-sent record is applied once');
  assert.equal((await control('GET', `orders/${orderId}`)).captures, 1);

  const refund = om.publish({ entity: 'order-refunds', method: 'post', params: params(path, { refunded_amount: 2000 }) });
  assert.equal(refund.status, 201);

  const cancel = failure(() => om.publish({ entity: 'order-cancel', method: 'post', params: params(path) }));
  assert.equal(cancel.tag, 'rejected');
  assert.equal(cancel.val.status, 403);
  assert.equal(cancel.val.code, 'CANCEL_NOT_ALLOWED');
  assert.ok(cancel.val.correlationId);

  const release = om.publish({ entity: 'order-release-remaining-authorization', method: 'post', params: params(path) });
  assert.equal(release.status, 204);
  const order = read();
  assert.deepEqual([order.status, order.captured_amount, order.refunded_amount, order.remaining_authorized_amount], ['CAPTURED', 6000, 2000, 0]);

  const missing = failure(() => om.subscribe({ entity: 'order', params: params([['order_id', 'nope']]) }));
  assert.equal(missing.tag, 'not-found');
  assert.equal(missing.val.code, 'NO_SUCH_ORDER');
});

test('paging through settlement transactions returns every record once', () => {
  const settlements = connector.Connection.open(config('settlements'));
  const seen = new Set();
  let cursor;
  let pages = 0;
  do {
    const page = settlements.subscribe({ entity: 'transactions', params: params(), cursor, pageSize: 500 });
    for (const record of page.records) seen.add(JSON.parse(record).capture_id);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor !== undefined);
  assert.equal(pages, 3);
  assert.equal(seen.size, 1234);
});

test('a wrong password is unauthorized (401)', () => {
  const wrong = connector.Connection.open(config('settlements', { auth: { tag: 'basic', val: { username: USERNAME, password: 'wrong' } } }));
  const error = failure(() => wrong.test());
  assert.equal(error.tag, 'unauthorized');
  assert.equal(error.val.status, 401);
  const everything = JSON.stringify(logLines);
  assert.ok(!everything.includes(PASSWORD), 'the password never reaches the log');
});

test('a 429 with a long Retry-After is handed to the host as rate-limited', async () => {
  await control('POST', 'faults', [{ kind: 'rate_limited', retry_after_s: 30 }]);
  const settlements = connector.Connection.open(config('settlements'));
  const error = failure(() => settlements.subscribe({ entity: 'payouts', params: params() }));
  assert.equal(error.tag, 'rate-limited');
  assert.equal(error.val.retryAfterMs, 30000n);
  assert.equal(error.val.error.status, 429);
  // A short one is retried by the connector itself.
  await control('POST', 'faults', [{ kind: 'rate_limited', retry_after_s: 0 }, { kind: 'server_timeout' }]);
  assert.equal(settlements.subscribe({ entity: 'payouts', params: params(), pageSize: 2 }).records.length, 2);
});

test('Klarna Network: a payment request carries its header parameters and is created once', () => {
  const network = connector.Connection.open(config('network', { auth: { tag: 'basic', val: { username: '', password: API_KEY } } }));
  const headers = [['Klarna-Interoperability-Token', 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln'], ['Partner-Correlation-Id', 'node1']];
  const request = { currency: 'EUR', amount: 2500, customer_interaction_config: { method: 'HANDOVER', return_url: 'https://shop.example/return' } };
  const created = network.publish({ entity: 'payment-requests', method: 'post', params: params([], request, headers) });
  assert.equal(created.status, 201);
  assert.match(created.id, /^krn:payment:eu1:request:/);
  const wire = sent[sent.length - 1];
  for (const [name, value] of headers) {
    assert.ok(wire.headers.some(([k, v]) => k === name && v === value), `${name} sent as a header`);
  }
  assert.ok(!wire.url.includes('?'), 'and not in the query');
  const again = network.publish({ entity: 'payment-requests', method: 'post', params: params([], request, headers) });
  assert.equal(again.id, created.id, 'a re-sent request is created once');
  const read = JSON.parse(network.subscribe({ entity: 'payment-request', params: params([['payment_request_id', created.id]]) }).records[0]);
  assert.equal(read.state, 'SUBMITTED');
});

test('a Klarna Network webhook signed with node:crypto is verified by receive; a changed byte is refused', () => {
  const keyId = 'krn:partner:global:notification:signing-key:node-1';
  const key = 'node-signing-key-5e1f';
  const listener = connector.Connection.open(config('network', {
    auth: { tag: 'basic', val: { username: '', password: API_KEY } },
    settings: [['signing_keys', `${keyId}=${key}`]],
  }));
  const body = new TextEncoder().encode(JSON.stringify({
    metadata: { event_type: 'payment.request.state-change.completed', event_id: 'node-event-1', event_version: 'v2' },
    payload: { payment_request_id: 'krn:payment:eu1:request:node' },
  }));
  const signature = createHmac('sha256', key).update(body).digest('hex');
  const request = (bytes) => ({
    method: 'post',
    path: '/network/notifications',
    headers: [['Content-Type', 'application/json'], ['klarna-signature', signature], ['Klarna-Signing-Key-Id', keyId]],
    body: bytes,
  });
  const delivery = listener.receive(request(body));
  assert.equal(delivery.events.length, 1);
  assert.equal(delivery.events[0].kind, 'payment.request.state-change.completed');
  assert.equal(delivery.events[0].id, 'node-event-1');
  assert.equal(delivery.events[0].entity, 'payment-request');
  assert.equal(JSON.parse(delivery.events[0].record).payload.payment_request_id, 'krn:payment:eu1:request:node');
  assert.equal(delivery.reply.status, 200);
  const changed = body.slice();
  changed[10] ^= 1;
  const error = failure(() => listener.receive(request(changed)));
  assert.equal(error.tag, 'unauthorized');
  assert.equal(error.val.status, 400);
  assert.ok(!JSON.stringify(logLines).includes(key), 'the signing key never reaches the log');
});

test("the Shipping Service authenticates with Klarna's example; the token is an HS256 JWT node:crypto verifies", () => {
  const shipping = connector.Connection.open(config('shipping-assistant', {
    auth: { tag: 'basic', val: { username: 'sweMerch123', password: 'smOOOth' } },
    settings: [['public_url', 'https://shop.example/klarna']],
  }));
  const digest = createHash('sha256').update('lRFUpqW7Xd' + 'smOOOth').digest('hex').toUpperCase();
  assert.equal(digest, '8C3891B3162DB3AB61A9B2DA74E6A479553ABA897894E5236ED290C11A0B832B', "Klarna's printed digest");
  const json = (value) => new TextEncoder().encode(JSON.stringify(value));
  const auth = shipping.receive({
    method: 'post',
    path: '/auth',
    headers: [['Content-Type', 'application/vdn.klarna.shipping.auth-v1+json']],
    body: json({ identifier: 'sweMerch123', secret: { nonce: 'lRFUpqW7Xd', digest } }),
  });
  assert.equal(auth.events.length, 0);
  assert.equal(auth.reply.status, 201);
  const token = JSON.parse(new TextDecoder().decode(auth.reply.body)).token;
  // An independent check of the token: HS256 under HMAC-SHA256(key, label), claims in base64url.
  const [header, claims, signature] = token.split('.');
  const signingKey = createHmac('sha256', 'smOOOth').update('ipaas:connector klarna shipping-assistant token v1').digest();
  assert.equal(createHmac('sha256', signingKey).update(`${header}.${claims}`).digest('base64url'), signature);
  assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url')), { alg: 'HS256', typ: 'JWT' });
  const { sub, iat, exp } = JSON.parse(Buffer.from(claims, 'base64url'));
  assert.equal(sub, 'sweMerch123');
  assert.equal(exp - iat, 3600);
  assert.ok(Math.abs(iat - Date.now() / 1000) < 60, 'issued at the host clock (wasi:clocks under Node)');

  const reserve = (bearer) => shipping.receive({
    method: 'post',
    path: '/shipment',
    headers: [['Authorization', `Bearer ${bearer}`], ['Content-Type', 'application/vnd.klarna.shipping.select_option-v1+json']],
    body: json({ currency: 'SEK', locale: 'sv-SE', session_id: 'node-1' }),
  });
  const delivery = reserve(token);
  assert.equal(delivery.events[0].kind, 'shipping.shipment_create');
  assert.equal(delivery.reply, undefined, 'the flow answers');
  const reply = shipping.respond('shipping.shipment_create', JSON.stringify({ reservation: { shipment_id: 'shp-node-1' } }));
  assert.equal(reply.status, 201);
  assert.deepEqual(reply.headers.find(([name]) => name === 'Location'), ['Location', 'https://shop.example/klarna/shipment/shp-node-1']);
  const error = failure(() => reserve(`${header}.${claims}.${Buffer.from('forged').toString('base64url')}`));
  assert.equal(error.tag, 'unauthorized');
  assert.equal(error.val.status, 401);
  assert.ok(!JSON.stringify(logLines).includes(token), 'the token never reaches the log');
});

test('a dispute evidence file uploads as multipart/form-data and downloads unchanged', async () => {
  const disputes = connector.Connection.open(config('disputes'));
  const dispute = disputes
    .subscribe({ entity: 'disputes', params: params(), pageSize: 10 })
    .records.map((r) => JSON.parse(r))
    .find((d) => d.state === 'INITIATED');
  const bytes = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from([0, 255, 13, 10, 45, 45]), Buffer.from('\n%%EOF\n')]);
  const file = { content_type: 'application/pdf', filename: 'proof-of-delivery.pdf', content_base64: bytes.toString('base64') };
  const path = [['payment_dispute_id', dispute.payment_dispute_id]];
  const uploaded = disputes.publish({ entity: 'dispute-attachments', method: 'post', params: params(path, file) });
  assert.equal(uploaded.status, 201);
  const wire = sent[sent.length - 1];
  const contentType = wire.headers.find(([k]) => k === 'Content-Type')?.[1] ?? '';
  assert.ok(contentType.startsWith('multipart/form-data; boundary='), contentType);
  // Parsed by Node's own RFC 7578 reader (undici), not by code of this project.
  const form = await new Response(wire.body, { headers: { 'content-type': contentType } }).formData();
  assert.deepEqual([...form.keys()], ['file'], 'one part, named file');
  const part = form.get('file');
  assert.equal(part.name, file.filename);
  assert.equal(part.type, file.content_type);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes, 'the part holds the file, byte for byte');
  const downloaded = JSON.parse(
    disputes.subscribe({ entity: 'dispute-attachment', params: params([...path, ['payment_dispute_attachment_id', uploaded.id]]) }).records[0],
  );
  assert.deepEqual(downloaded, file, 'the same record back, byte for byte');
});

test('the composed wasi:http service runs under jco serve too: describe, entities, problem documents', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const token = 'jco-service-token-4b7e';
  const jco = spawn(`${root}host-test/js/node_modules/.bin/jco`, ['serve', `${root}target/klarna_connector.service.wasm`, '--port', String(port)], {
    env: { ...process.env, CONNECTOR_API_TYPE: 'post-purchase', CONNECTOR_USERNAME: USERNAME, CONNECTOR_PASSWORD: PASSWORD, SERVICE_TOKEN: token },
    stdio: ['ignore', 'ignore', 'ignore'],
    detached: true,
  });
  try {
    const call = (method, path, { auth = token, body } = {}) => fetch(`http://127.0.0.1:${port}${path}`, {
      method, body, headers: auth ? { authorization: `Bearer ${auth}` } : {},
    });
    // jco serve prints its address from a child process: wait for the port instead (at most 60 s).
    let describe;
    for (let tries = 0; !describe && tries < 120; tries++) {
      describe = await call('GET', '/describe').catch(() => new Promise((resolve) => setTimeout(() => resolve(undefined), 500)));
    }
    assert.ok(describe, 'jco serve answered within 60 s');
    assert.equal(describe.status, 200);
    assert.equal(await describe.text(), connector.describe(), 'describe() as the component gives it');
    const entities = await (await call('GET', '/entities')).json();
    assert.ok(entities.some((e) => e.name === 'order-captures'));
    const refused = await call('POST', '/test', { auth: 'wrong' });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json');
    assert.equal((await refused.json()).connector_error, 'service-token');
    const malformed = await call('POST', '/subscribe', { body: '{"entity": 1}' });
    assert.equal(malformed.status, 400);
    assert.equal((await malformed.json()).connector_error, 'invalid-input');
  } finally {
    // jco serve runs the component in a child of its own: end the whole group.
    process.kill(-jco.pid);
  }
});

test("the component's exports have the shape of wit/connector.wit", () => {
  // Each top-level declaration without its doc comment; the order may differ
  // (the component lists types in the order its functions use them).
  const declarations = (text) =>
    text
      .split('\n')
      .filter((l) => !/^\s*(\/\*\*|\*)/.test(l))
      .join('\n')
      .split(/\n(?=export )/)
      .map((d) => d.trim())
      .filter(Boolean)
      .sort();
  for (const iface of ['connector', 'types', 'http', 'log']) {
    const fromWit = readFileSync(new URL(`./out-wit/interfaces/ipaas-connector-${iface}.d.ts`, import.meta.url), 'utf8');
    const fromComponent = readFileSync(new URL(`./out/interfaces/ipaas-connector-${iface}.d.ts`, import.meta.url), 'utf8');
    assert.deepEqual(declarations(fromComponent), declarations(fromWit), `interface ${iface}`);
  }
  // The component's whole world: exactly these imports and this export. The
  // WASI interfaces come from Rust's standard library for wasm32-wasip2
  // (clocks for retry waits, insecure-seed for the retry jitter, stdio and
  // environment that std links); a host must provide them all.
  const world = readFileSync(new URL('./out-wit/world.wit', import.meta.url), 'utf8');
  const items = (kind) => [...world.matchAll(new RegExp(`^\\s*${kind} ([^;]+);`, 'gm'))].map((m) => m[1]).sort();
  assert.deepEqual(items('export'), ['ipaas:connector/connector@0.3.0']);
  assert.deepEqual(items('import'), [
    'ipaas:connector/http@0.3.0',
    'ipaas:connector/log@0.3.0',
    'ipaas:connector/types@0.3.0',
    'wasi:cli/environment@0.2.6',
    'wasi:cli/exit@0.2.6',
    'wasi:cli/stderr@0.2.6',
    'wasi:cli/stdin@0.2.6',
    'wasi:cli/stdout@0.2.6',
    'wasi:cli/terminal-input@0.2.6',
    'wasi:cli/terminal-output@0.2.6',
    'wasi:cli/terminal-stderr@0.2.6',
    'wasi:cli/terminal-stdin@0.2.6',
    'wasi:cli/terminal-stdout@0.2.6',
    'wasi:clocks/monotonic-clock@0.2.6',
    'wasi:clocks/wall-clock@0.2.6',
    'wasi:io/error@0.2.6',
    'wasi:io/poll@0.2.6',
    'wasi:io/streams@0.2.6',
    'wasi:random/insecure-seed@0.2.6',
  ]);
});

/** The namespace of derived idempotency keys (docs/host-guide.md, "Idempotency keys"). */
const KEY_NAMESPACE = '6f1c2a4e-93b7-4d0a-8c55-1e2f7a9b3c11';

/** A derived key as any host can compute it: UUID v5 of the RFC 8785 form, here npm's `canonicalize` and `uuid`. */
const derivedKey = (entity, method, path, payloadText, headers = []) => {
  const input = { entity, method, path: [...path].sort(), payload: JSON.parse(payloadText) };
  if (headers.length) input.headers = headers.map(([k, v]) => [k.toLowerCase(), v]).sort();
  return uuidv5(canonicalize(input), KEY_NAMESPACE);
};

test('derived idempotency keys are what an independent RFC 8785 and UUID v5 give', async () => {
  const { order_id: orderId } = await control('POST', 'orders', { amount: 10000 });
  const om = connector.Connection.open(config('post-purchase'));
  const path = [['order_id', orderId]];
  const sentKey = (payloadText) => {
    const before = sent.length;
    try {
      om.publish({ entity: 'order-captures', method: 'post', params: { path, query: [], payload: payloadText } });
    } catch (error) {
      // Klarna may refuse the capture (a second one of the same amount, say): the key was sent all the same.
    }
    assert.equal(sent.length, before + 1, `one request for ${payloadText}`);
    return sent[sent.length - 1].headers.find(([name]) => name === 'Klarna-Idempotency-Key')[1];
  };
  const texts = [
    '{"captured_amount":100}',
    '{"captured_amount":100,"description":"x","shipping_delay":1.5}',
    '{ "shipping_delay": 1.50, "description": "x", "captured_amount": 100 }',
    '{"captured_amount":1e2,"description":"\\u0078","shipping_delay":15e-1}',
    '{"captured_amount":200,"reference":"é€😀","shipping_delay":-0}',
    '{"captured_amount":300,"reference":"\\ud83d\\ude00","shipping_delay":0.1}',
  ];
  const keys = texts.map((text) => [sentKey(text), derivedKey('order-captures', 'POST', path, text)]);
  for (const [i, [ours, theirs]] of keys.entries()) assert.equal(ours, theirs, texts[i]);
  assert.equal(keys[1][0], keys[2][0], '1.5 and 1.50, and member order, give one key');
  assert.equal(keys[1][0], keys[3][0], 'exponents and escapes give the same key');
  assert.notEqual(keys[0][0], keys[1][0]);
  // -0 is written 0 (RFC 8785 3.2.2.3).
  assert.equal(derivedKey('order-captures', 'POST', path, '{"captured_amount":200,"reference":"é€😀","shipping_delay":0}'), keys[4][0]);
  // The known vector the Rust tests pin (integers only: unchanged from 0.2.0).
  assert.equal(derivedKey('order-captures', 'POST', [['order_id', 'o1']], '{"captured_amount":100}'), '5b539176-bf8a-5f3c-b8f1-9aec70f1fc60');
});

test('URLs Klarna or a merchant gives are refused off the API host or with user info, naming the field', async () => {
  const settlements = connector.Connection.open(config('settlements'));
  const page = (next) => JSON.stringify({ transactions: [{ payment_reference: 'XISA00001000' }], pagination: { next } });
  for (const next of [
    'https://api.playground.klarna.com@evil.example/settlements/v1/transactions?offset=1&size=1',
    'https://api.playground.klarna.com/settlements/v1/{transactions}?offset=1&size=1',
    '//evil.example/settlements/v1/transactions?offset=1&size=1',
    'https://api.playground.klarna.com:0/settlements/v1/transactions?offset=1&size=1',
  ]) {
    await control('POST', 'faults', [{ kind: 'answer', status: 200, headers: [['Content-Type', 'application/json']], body: page(next) }]);
    const error = failure(() => settlements.subscribe({ entity: 'transactions', params: params(), pageSize: 1 }));
    assert.equal(error.tag, 'unexpected', next);
    assert.match(error.val.messages[0], /pagination\.next/, next);
  }
  for (const next of ['/settlements/v1/transactions?offset=1&size=1', 'https://API.PLAYGROUND.KLARNA.COM:443/settlements/v1/transactions?offset=1&size=1']) {
    await control('POST', 'faults', [{ kind: 'answer', status: 200, headers: [['Content-Type', 'application/json']], body: page(next) }]);
    assert.equal(settlements.subscribe({ entity: 'transactions', params: params(), pageSize: 1 }).nextCursor, 'offset=1&size=1', next);
  }

  const { order_id: orderId } = await control('POST', 'orders', { amount: 10000 });
  const om = connector.Connection.open(config('post-purchase'));
  const capture = (location) => om.publish({ entity: 'order-captures', method: 'post', params: params([['order_id', orderId]], { captured_amount: 100 }) });
  await control('POST', 'faults', [{ kind: 'answer', status: 201, headers: [['Location', `https://api.playground.klarna.com@evil.example/ordermanagement/v1/orders/${orderId}/captures/c1`]] }]);
  const before = logLines.length;
  assert.equal(capture().id, undefined, 'no id from a Location with user info');
  assert.ok(logLines.slice(before).some((line) => /Location/.test(JSON.stringify(line))), 'the Location is named in the log');
  await control('POST', 'faults', [{ kind: 'answer', status: 201, headers: [['Location', `/ordermanagement/v1/orders/${orderId}/captures/c2`]] }]);
  assert.equal(capture().id, 'c2', 'a relative Location on the API host');

  const purchase = connector.Connection.open(config('purchase', { settings: [['callback_secret', 's3cret-s3cret-s3cret']] }));
  const redirect = failure(() => purchase.respond('checkout.validation', JSON.stringify({ redirect: 'https://shop.example@evil.example/sorry' })));
  assert.equal(redirect.tag, 'invalid-input');
  assert.match(redirect.val, /^answer\.redirect: /);
  const shipping = failure(() => connector.Connection.open(config('shipping-assistant', { settings: [['public_url', 'https://user@shop.example/klarna']] })));
  assert.equal(shipping.tag, 'invalid-config');
  assert.match(shipping.val, /^settings\.public_url: /);
});

test('an incremental read ends with a state; the next read from it asks only for the look-back window', () => {
  const settlements = connector.Connection.open(config('settlements'));
  const sync = (since) => {
    let cursor;
    let first = true;
    const records = [];
    for (;;) {
      const page = settlements.subscribe({ entity: 'payouts', params: params(), cursor, pageSize: 5, since: first ? since : undefined });
      first = false;
      records.push(...page.records.map((r) => JSON.parse(r)));
      if (page.nextCursor === undefined) return { records, state: page.state };
      cursor = page.nextCursor;
    }
  };
  const full = sync(undefined);
  assert.equal(full.records.length, 13);
  assert.match(full.state, /^s1\./);
  const before = sent.length;
  const again = sync(full.state);
  assert.equal(again.records.length, 8, "the newest payout's day and the 7 days before it");
  assert.ok(sent.slice(before).every((r) => r.url.includes('start_date=2026-01-07T10%3A00%3A00Z')), 'the window starts the look-back before');
  const entity = settlements.entities().find((e) => e.name === 'payouts');
  assert.equal(entity.incremental, 'payout_date');
  assert.equal(entity.operations[0].retry, 'natural');
  const refused = failure(() => settlements.subscribe({ entity: 'payouts', params: params(), since: full.state.slice(0, -2) }));
  assert.equal(refused.tag, 'invalid-input');
  assert.match(refused.val, /^since: /);
});

/** Reads every page of `entity` from `since` (a full read without it): the records and the state. */
const syncAll = (connection, entity, since, pageSize = 50) => {
  let cursor;
  const records = [];
  for (let first = true; ; first = false) {
    const page = connection.subscribe({ entity, params: params(), cursor, pageSize, since: first ? since : undefined });
    records.push(...page.records.map((r) => JSON.parse(r)));
    if (page.nextCursor === undefined) return { records, state: page.state };
    cursor = page.nextCursor;
  }
};

test('syncs read what is new plus the window: new payouts, their transactions, an updated dispute', async () => {
  const settlements = connector.Connection.open(config('settlements'));
  const first = syncAll(settlements, 'payouts');
  const quiet = syncAll(settlements, 'payouts', first.state);
  assert.ok(quiet.records.length < first.records.length, 'nothing new: the window only');
  const transactions = syncAll(settlements, 'payout-transactions');
  await control('POST', 'clock', { days: 2 });
  const { payment_reference: fresh } = await control('POST', 'settlements', { days_ago: 0, transactions: 3 });
  const after = syncAll(settlements, 'payouts', quiet.state);
  assert.deepEqual(after.records.filter((p) => p.payment_reference === fresh).length, 1, 'the new payout');
  assert.equal(after.records.length, quiet.records.length + 1, 'plus the window, not the whole history');
  const more = syncAll(settlements, 'payout-transactions', transactions.state);
  assert.equal(more.records.filter((t) => t.payment_reference === fresh).length, 3, "the new payout's transactions");
  assert.ok(more.records.length < transactions.records.length + 3, 'not every transaction again');

  const disputes = connector.Connection.open(config('disputes'));
  const all = syncAll(disputes, 'disputes');
  const { ids } = await control('GET', 'disputes');
  await control('POST', 'clock', { days: 10 });
  await control('POST', `disputes/${ids[0]}`, { state: 'CLOSED' });
  const once = syncAll(disputes, 'disputes', all.state);
  await control('POST', 'clock', { days: 10 });
  await control('POST', `disputes/${ids[1]}`, { state: 'REPRESENTMENT' });
  const twice = syncAll(disputes, 'disputes', once.state);
  assert.deepEqual(twice.records.map((d) => d.payment_dispute_id).sort(), [ids[0], ids[1]].sort(),
    `the updated dispute and its window, never the ${all.records.length} of the history`);
});

test('a write whose resend may act twice is not sent again after a lost answer: outcome-unknown', async () => {
  const purchase = connector.Connection.open(config('purchase'));
  const order = { purchase_country: 'DE', purchase_currency: 'EUR', locale: 'de-DE', intent: 'buy', order_amount: 2000, order_tax_amount: 319,
    order_lines: [{ name: 'Shoes', quantity: 1, unit_price: 2000, total_amount: 2000, tax_rate: 1900, total_tax_amount: 319 }] };
  const retry = purchase.entities().find((e) => e.name === 'payment-sessions').operations[0].retry;
  assert.equal(retry, 'none');
  const posts = () => sent.filter((r) => r.method === 'post' && r.url.endsWith('/payments/v1/sessions')).length;
  let before = posts();
  await control('POST', 'faults', [{ kind: 'apply_then_timeout' }]);
  const unknown = failure(() => purchase.publish({ entity: 'payment-sessions', method: 'post', params: params([], order) }));
  assert.equal(unknown.tag, 'outcome-unknown');
  assert.match(unknown.val, /To find out: /);
  assert.equal(posts() - before, 1, 'sent once');
  before = posts();
  await control('POST', 'faults', [{ kind: 'connect_refused' }]);
  const created = purchase.publish({ entity: 'payment-sessions', method: 'post', params: params([], order) });
  assert.equal(created.status, 200);
  assert.equal(posts() - before, 2, 'a refused connection never left: sent again');
});
