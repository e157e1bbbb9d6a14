/**
 * Writes a config change back to the config file (gateways without Redis, `?persist=true`).
 * Only the changed entry's lines are rewritten (src/control/yaml-splice.ts); comments, spacing
 * and the rest of the file stay byte for byte. The file is replaced atomically (write a
 * temporary file, then rename).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import type { OverlayEntry, Section } from './overlay.js';
import { spliceEntry } from './yaml-splice.js';

/** The whole document re-printed: loses the file's formatting, so only a fallback. */
function reprint(doc: Document.Parsed, section: Section, name: string, entry: OverlayEntry): string {
  if (section === 'providers') {
    if (entry) doc.setIn(['providers', name], doc.createNode(entry));
    else if (doc.hasIn(['providers', name])) doc.deleteIn(['providers', name]);
    return String(doc);
  }
  const list = doc.get(section);
  const node = entry ? doc.createNode({ name, ...entry }) : undefined;
  if (!isSeq(list)) {
    if (node) doc.set(section, doc.createNode([{ name, ...entry }]));
    return String(doc);
  }
  const index = list.items.findIndex((item) => isMap(item) && item.get('name') === name);
  if (index === -1) {
    if (node) list.items.push(node);
  } else if (node) list.items[index] = node;
  else list.items.splice(index, 1);
  return String(doc);
}

/** The new text of the config file `text` with the change made. */
export function changeConfigText(text: string, section: Section, name: string, entry: OverlayEntry): string {
  const parse = () => {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new Error(`not valid YAML: ${doc.errors[0]!.message}`);
    return doc;
  };
  const spliced = spliceEntry(text, parse(), section, name, entry);
  const expected = reprint(parse(), section, name, entry);
  // The splice works on source positions; should a layout it does not foresee give anything
  // but the intended data, the re-printed document is written instead.
  const check = parseDocument(spliced);
  const same = check.errors.length === 0 && isDeepStrictEqual(check.toJS(), parseDocument(expected).toJS());
  return same ? spliced : expected;
}

export async function persistChange(file: string, section: Section, name: string, entry: OverlayEntry): Promise<void> {
  let next: string;
  try {
    next = changeConfigText(await readFile(file, 'utf8'), section, name, entry);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, next);
  await rename(temporary, file);
}
