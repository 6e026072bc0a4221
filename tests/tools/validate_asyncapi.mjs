// Parses each AsyncAPI document given with @asyncapi/parser and prints every diagnostic; exits 1 when any is an
// error (severity 0), 2 when the parser itself is missing. Run with NODE_PATH pointing at its node_modules.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(process.env.NODE_PATH ? `${process.env.NODE_PATH}/` : import.meta.url);
let Parser;
try {
  ({ Parser } = require('@asyncapi/parser'));
} catch (e) {
  console.error(`@asyncapi/parser is not installed: ${e.message}`);
  process.exit(2);
}
const parser = new Parser();
let failed = false;
for (const path of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(readFileSync(path, 'utf8'));
  const errors = diagnostics.filter((d) => d.severity === 0);
  for (const d of errors) {
    console.log(`${path}: error ${d.code}: ${d.message} at ${JSON.stringify(d.path)}`);
  }
  if (errors.length > 0 || !document) {
    failed = true;
  } else {
    // Read back every channel's address, for the caller to compare with the design's topics.
    for (const channel of document.channels()) {
      console.log(`${path}: channel ${channel.id()} address ${JSON.stringify(channel.address())}`);
    }
  }
}
process.exit(failed ? 1 : 0);
