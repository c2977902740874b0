// Checks that every GraphQL operation the storefront page can send is valid against
// schema.graphql (graphql-js, the reference implementation): the page uses the public
// API and nothing else.
//
//   node operations.mjs   (from anywhere; paths are relative to this file)
//
// Prints one JSON line and exits 0, or exits 1 naming each invalid operation.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSchema, parse, validate } from "graphql";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const schema = buildSchema(readFileSync(join(root, "schema.graphql"), "utf8"));
const operations = await import(join(root, "crates/api/assets/app/operations.js"));

const failures = [];
const checked = [];
for (const group of ["QUERIES", "MUTATIONS", "SUBSCRIPTIONS"]) {
  for (const [name, text] of Object.entries(operations[group])) {
    let errors;
    try {
      errors = validate(schema, parse(text));
    } catch (e) {
      errors = [e];
    }
    checked.push(`${group}.${name}`);
    if (errors.length) failures.push({ operation: `${group}.${name}`, errors: errors.map((e) => e.message) });
  }
}
console.log(JSON.stringify({ ok: failures.length === 0, checked, failures }));
if (failures.length) process.exitCode = 1;
