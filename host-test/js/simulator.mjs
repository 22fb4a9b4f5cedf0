// The simulator for the jco suites: `host-test serve` on loopback (the binary
// `cargo test` builds, or HOST_TEST_BIN), and the `http` import pointed at it.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { configure } from './http.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Starts the simulator; resolves to `{ url, stop }` once it listens. */
export async function startSimulator(allowedHosts) {
  const binary = process.env.HOST_TEST_BIN ?? `${root}target/debug/host-test`;
  const server = spawn(binary, ['serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    server.on('error', reject);
    server.stdout.on('data', (chunk) => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(chunk.toString());
      if (match) resolve(match[1]);
    });
  });
  configure({ url, allowed: allowedHosts });
  return { url, stop: () => server.kill() };
}
