// The `ipaas:connector/http` import, written in JavaScript: Klarna's hosts are
// mapped to the simulator that `host-test serve` runs on loopback.
//
// The import is synchronous, so each request runs in a short-lived child
// process (`fetch-one.mjs`) and the call blocks on it.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const helper = fileURLToPath(new URL('./fetch-one.mjs', import.meta.url));
let simulatorUrl = null;
let allowedHosts = new Set();

/** Where Klarna's hosts go, and which hosts the connector may reach. */
export function configure({ url, allowed }) {
  simulatorUrl = url;
  allowedHosts = new Set(allowed);
}

/** Requests seen by this host, for assertions. */
export const sent = [];

export function send(request) {
  const target = new URL(request.url);
  if (target.protocol !== 'https:' || !allowedHosts.has(target.hostname)) {
    throw { tag: 'denied', val: `${target.hostname} is not in the connector's host allow-list` };
  }
  sent.push({ method: request.method, url: request.url, headers: request.headers, body: request.body ?? null });
  const job = {
    url: `${simulatorUrl}${target.pathname}${target.search}`,
    method: request.method.toUpperCase(),
    headers: [...request.headers, ['X-Klarna-Host', target.hostname]],
    body: request.body ? Buffer.from(request.body).toString('base64') : null,
    timeoutMs: request.timeoutMs ?? 30000,
  };
  const child = spawnSync(process.execPath, [helper], { input: JSON.stringify(job), maxBuffer: 64 << 20 });
  if (child.status !== 0) {
    throw { tag: 'connection', val: String(child.stderr || 'helper failed') };
  }
  const answer = JSON.parse(child.stdout.toString());
  if (answer.error === 'timeout') throw { tag: 'timeout' };
  // Tell the two apart truthfully: the connector resends some writes only after not-sent.
  if (answer.error && answer.notSent) throw { tag: 'not-sent', val: answer.error };
  if (answer.error) throw { tag: 'connection', val: answer.error };
  const body = Buffer.from(answer.body, 'base64');
  if (answer.status === 599) {
    // The simulator's way of saying "the network failed here" over loopback.
    const failure = JSON.parse(body.toString());
    if (failure.network_failure === 'timeout') throw { tag: 'timeout' };
    if (failure.network_failure === 'not_sent') throw { tag: 'not-sent', val: failure.reason ?? 'not sent' };
    throw { tag: 'connection', val: failure.reason ?? 'connection failed' };
  }
  return { status: answer.status, headers: answer.headers, body: new Uint8Array(body) };
}
