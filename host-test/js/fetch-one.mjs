// One HTTP request, described as JSON on stdin, answered as JSON on stdout.
let input = '';
for await (const chunk of process.stdin) input += chunk;
const job = JSON.parse(input);
try {
  const response = await fetch(job.url, {
    method: job.method,
    headers: job.headers,
    body: job.body === null ? undefined : Buffer.from(job.body, 'base64'),
    signal: AbortSignal.timeout(job.timeoutMs),
  });
  const body = Buffer.from(await response.arrayBuffer()).toString('base64');
  process.stdout.write(JSON.stringify({ status: response.status, headers: [...response.headers.entries()], body }));
} catch (error) {
  const timedOut = error.name === 'TimeoutError' || error.name === 'AbortError';
  // Failures before the request could leave: no name, no route, refused, no TLS session.
  const code = error.cause?.code ?? '';
  const notSent = ['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL');
  process.stdout.write(JSON.stringify({ error: timedOut ? 'timeout' : String(error.cause ?? error), notSent }));
}
