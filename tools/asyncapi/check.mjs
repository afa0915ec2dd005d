#!/usr/bin/env node
// Parse and validate AsyncAPI documents with the official parser (@asyncapi/parser), then check
// every message example against its payload schema (the parser's AsyncAPI 3 rules do not).
// Prints one JSON line per diagnostic and a summary per file; exit status 1 when any has an error.
//
//   node tools/asyncapi/check.mjs docs/asyncapi.json docs/asyncapi-kiosk.json
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import Ajv from 'ajv';

const SEVERITY = ['error', 'warning', 'info', 'hint']; // Spectral's numbering

function exampleProblems(document) {
  const ajv = new Ajv({ strict: false, allErrors: true }); // draft-07, the document's schemaFormat
  const problems = [];
  for (const message of document.allMessages()) {
    const raw = message.payload()?.json();
    const schema = raw && 'schemaFormat' in raw ? raw.schema : raw; // a multi-format schema object
    if (!schema) continue;
    const validate = ajv.compile(schema);
    message.examples().all().forEach((example, i) => {
      if (example.hasPayload() && !validate(example.payload())) {
        for (const err of validate.errors) {
          problems.push({
            severity: 'error', code: 'message-example-invalid',
            message: `example ${i} of message ${message.id()}: ${err.instancePath || '/'} ${err.message}`,
            path: ['messages', message.id(), 'examples', String(i)],
          });
        }
      }
    });
  }
  return problems;
}

async function check(path) {
  const parser = new Parser();
  const { document, diagnostics } = await parser.parse(readFileSync(path, 'utf8'), { source: path });
  const found = diagnostics.map((d) => ({
    severity: SEVERITY[d.severity] ?? String(d.severity), code: String(d.code), message: d.message,
    path: d.path.map(String),
  }));
  if (document) found.push(...exampleProblems(document));
  else if (!found.some((d) => d.severity === 'error')) {
    found.push({ severity: 'error', code: 'not-parsed', message: 'the parser gave no document', path: [] });
  }
  for (const d of found) console.log(JSON.stringify({ file: path, ...d }));
  const count = (s) => found.filter((d) => d.severity === s).length;
  console.log(`${path}: ${count('error')} errors, ${count('warning')} warnings, ${count('info')} infos`);
  return count('error');
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: check.mjs FILE...');
  process.exit(2);
}
let errors = 0;
for (const file of files) {
  try {
    errors += await check(file);
  } catch (exc) {
    console.log(JSON.stringify({ file, severity: 'error', code: 'unreadable', message: String(exc), path: [] }));
    errors += 1;
  }
}
process.exit(errors ? 1 : 0);
