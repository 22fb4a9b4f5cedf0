// Embedding the connector in Node with jco, in brief (its wasmtime twin is
// host-test/examples/embed.rs). jco turns the component into a JavaScript
// module whose two imports are modules of yours:
//
//   npx jco transpile klarna_connector.opt.wasm -o out --name klarna_connector \
//     --map 'ipaas:connector/http=../http.js' --map 'ipaas:connector/log=../log.js'
//
// `http.js` exports `send(request)`, which returns `{status, headers, body}` or
// throws `{tag: 'timeout' | 'denied' | 'connection' | 'not-sent' | 'other', val}`
// (synchronously: the import is not async); `log.js` exports `log(level, message)`.
// jco's preview2 shim provides WASI. Errors arrive as a ComponentError whose
// `payload` is the connector-error, e.g. `{tag: 'unauthorized', val: {...}}`.

import { connector } from './out/klarna_connector.js';

/** Opens a Settlements connection, tests it, and reads one page of payouts. */
export function readPayouts({ username, password }) {
  const connection = connector.Connection.open({
    apiType: 'settlements',
    environment: 'playground',
    region: 'eu',
    auth: { tag: 'basic', val: { username, password } },
    settings: [],
  });
  connection.test();
  const page = connection.subscribe({ entity: 'payouts', params: { path: [], query: [] }, pageSize: 5 });
  return { payouts: page.records.map((record) => JSON.parse(record)), more: page.nextCursor !== undefined };
}
