/**
 * Writes a config change back to the config file (gateways without Redis, `?persist=true`).
 * Only the changed entry is rewritten; comments and the rest of the file stay as they were.
 * The file is replaced atomically (write a temporary file, then rename).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { isMap, isSeq, parseDocument } from 'yaml';
import type { OverlayEntry, Section } from './overlay.js';

export async function persistChange(file: string, section: Section, name: string, entry: OverlayEntry): Promise<void> {
  const doc = parseDocument(await readFile(file, 'utf8'));
  if (doc.errors.length > 0) throw new Error(`${file} is not valid YAML: ${doc.errors[0]!.message}`);
  if (section === 'providers') {
    if (entry) doc.setIn(['providers', name], doc.createNode(entry));
    else if (doc.hasIn(['providers', name])) doc.deleteIn(['providers', name]);
  } else {
    const list = doc.get(section);
    const node = entry ? doc.createNode({ name, ...entry }) : undefined;
    if (!isSeq(list)) {
      if (node) doc.set(section, doc.createNode([{ name, ...entry }]));
    } else {
      const index = list.items.findIndex((item) => isMap(item) && item.get('name') === name);
      if (index === -1) {
        if (node) list.items.push(node);
      } else if (node) list.items[index] = node;
      else list.items.splice(index, 1);
    }
  }
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, String(doc));
  await rename(temporary, file);
}
