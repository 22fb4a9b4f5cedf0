// TypeScript declarations of wit/connector.wit, generated from its source
// text, for the test that compares them with the transpiled component's.
// (jco 1.35's `types` command cannot read files with preview2-shim 0.26,
// which no longer preopens the file system, so the WIT text is passed in.)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $init, generateTypes } from '@bytecodealliance/jco-transpile/component';

await $init;

const here = dirname(fileURLToPath(import.meta.url));
const source = readFileSync(join(here, '../../wit/connector.wit'), 'utf8');
const files = generateTypes('klarna_connector', {
  wit: { tag: 'source', val: source },
  world: 'plugin',
  tlaCompat: false,
  guest: false,
});
for (const [name, contents] of files) {
  const path = join(here, 'out-wit', name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, contents);
}
console.log(`${files.length} declaration files from wit/connector.wit`);
