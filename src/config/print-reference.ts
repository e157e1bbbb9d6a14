/**
 * `npm run docs:config`: rewrites docs/configuration-reference.md from the config schema. With
 * no argument the page goes to stdout, so a reviewer can diff it without touching the file.
 */
import { writeFile } from 'node:fs/promises';
import { describeConfigSchema } from './describe-schema.js';
import { gatewayConfigSchema } from './schema.js';

const page = describeConfigSchema(gatewayConfigSchema);
const target = process.argv[2];
if (target) {
  await writeFile(target, page);
  process.stdout.write(`wrote ${target}\n`);
} else {
  process.stdout.write(page);
}
