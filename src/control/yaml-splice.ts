/**
 * Edits one entry of a YAML config text in place. The yaml package's Document API finds the
 * entry and its source range; only that range is rewritten, so every other byte of the file
 * (comments, blank lines, quoting, odd spacing, flow or block style) stays as the operator
 * wrote it. Re-printing the whole Document instead would normalise all of those.
 */
import { isDeepStrictEqual } from 'node:util';
import { Document, isCollection, isMap, isScalar, isSeq, type Node, type Pair, type ParsedNode, type YAMLMap } from 'yaml';
import type { OverlayEntry, Section } from './overlay.js';

interface Edit {
  start: number;
  end: number;
  text: string;
}

function columnOf(text: string, pos: number): number {
  return pos - (text.lastIndexOf('\n', pos - 1) + 1);
}

function lineStartOf(text: string, pos: number): number {
  const start = text.lastIndexOf('\n', pos - 1) + 1;
  // Only when nothing but indentation precedes `pos` on its line.
  return text.slice(start, pos).trim() === '' ? start : pos;
}

/** `value` as YAML: one flow line, or block lines with `indent` before each line after the first; no final newline. */
function render(value: unknown, flow: boolean, indent: string): string {
  const doc = new Document(value);
  if (flow && isCollection(doc.contents)) doc.contents.flow = true;
  // lineWidth 0: never fold a long string over several lines.
  const text = doc.toString({ lineWidth: 0, flowCollectionPadding: true }).replace(/\n$/, '');
  return text.split('\n').join(`\n${indent}`);
}

/** Whether `node` is written inline (a flow collection or a scalar), not as indented block lines. */
function isInline(node: Node): boolean {
  return !isCollection(node) || node.flow === true;
}

/** Replaces `node`'s text by `value` in the same style and at the same column. */
function replaceNode(text: string, node: ParsedNode, value: unknown): Edit {
  const [start, valueEnd] = node.range;
  const inline = isInline(node);
  let out = render(value, inline, ' '.repeat(columnOf(text, start)));
  // A block collection's range runs to the end of its last line, newline included.
  if (!inline && text[valueEnd - 1] === '\n') out += '\n';
  if (inline && text[start - 1] === ':') out = ` ${out}`;
  return { start, end: valueEnd, text: out };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `key: value` as lines for a block mapping whose keys sit at `indent`, newline-terminated. */
function renderPair(key: string, value: unknown, indent: string): string {
  const head = `${indent}${render(key, true, '')}:`;
  if (value === null || typeof value !== 'object' || Object.keys(value).length === 0) return `${head} ${render(value, true, '')}\n`;
  const inner = `${indent}  `;
  return `${head}\n${inner}${render(value, false, inner)}\n`;
}

/**
 * Sets `node` to `value`. A block mapping is edited key by key, so keys whose values did not
 * change keep their text; anything else is replaced whole.
 */
function updateNode(text: string, node: ParsedNode, value: unknown): Edit[] {
  if (!isMap(node) || node.flow || !isPlainObject(value) || Object.keys(value).length === 0) return [replaceNode(text, node, value)];
  const pairs = (node as YAMLMap<ParsedNode, ParsedNode | null>).items;
  const edits: Edit[] = [];
  const seen = new Set<string>();
  for (const pair of pairs) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof key !== 'string') return [replaceNode(text, node, value)];
    seen.add(key);
    if (!Object.hasOwn(value, key)) {
      const start = lineStartOf(text, pair.key.range[0]);
      // The first key of a list item shares its line with the dash: rewrite the item instead.
      if (start === pair.key.range[0] && columnOf(text, start) > 0) return [replaceNode(text, node, value)];
      edits.push({ start, end: endOf(pair.value, pair.key.range[2]), text: '' });
    } else if (!pair.value) {
      edits.push({ start: pair.key.range[1], end: pair.key.range[2], text: `: ${render(value[key], true, '')}` });
    } else if (!isDeepStrictEqual(pair.value.toJSON(), value[key])) {
      edits.push(...updateNode(text, pair.value, value[key]));
    }
  }
  const added = Object.keys(value).filter((key) => !seen.has(key));
  if (added.length > 0) {
    const last = pairs.at(-1)!;
    const indent = ' '.repeat(columnOf(text, pairs[0]!.key.range[0]));
    edits.push(insertAfter(text, endOf(last.value, last.key.range[2]), added.map((key) => renderPair(key, value[key], indent)).join('')));
  }
  return edits;
}

/** Inserts `line` (already indented, newline-terminated) after the entry that ends at `end`. */
function insertAfter(text: string, end: number, line: string): Edit {
  return { start: end, end, text: text[end - 1] === '\n' || end === 0 ? line : `\n${line}` };
}

/** Where an entry's text ends: after its trailing comment and newline. */
function endOf(node: ParsedNode | null | undefined, fallback: number): number {
  return node ? node.range[2] : fallback;
}

function sectionPair(doc: Document.Parsed, section: Section): Pair<ParsedNode, ParsedNode | null> | undefined {
  const root = doc.contents;
  if (!isMap(root)) return undefined;
  return (root as YAMLMap<ParsedNode, ParsedNode | null>).items.find((pair) => isScalar(pair.key) && pair.key.value === section);
}

/** Removes the only entry of a block collection: the section becomes an empty flow one. */
function emptySection(text: string, pair: Pair<ParsedNode, ParsedNode | null>, empty: string): Edit {
  const end = endOf(pair.value, pair.key.range[1]);
  return { start: pair.key.range[1], end, text: `: ${empty}${text[end - 1] === '\n' ? '\n' : ''}` };
}

function editProviders(text: string, pair: Pair<ParsedNode, ParsedNode | null>, name: string, entry: OverlayEntry): Edit[] {
  const map = pair.value as YAMLMap<ParsedNode, ParsedNode | null>;
  const index = map.items.findIndex((item) => isScalar(item.key) && item.key.value === name);
  const found = map.items[index];
  if (found && entry) {
    return found.value ? updateNode(text, found.value, entry) : [{ start: found.key.range[1], end: found.key.range[2], text: `: ${render(entry, true, '')}` }];
  }
  if (found) {
    if (map.items.length === 1) return [emptySection(text, pair, '{}')];
    return [{ start: lineStartOf(text, found.key.range[0]), end: endOf(found.value, found.key.range[2]), text: '' }];
  }
  if (!entry) return [];
  const last = map.items.at(-1)!;
  const keyColumn = columnOf(text, map.items[0]!.key.range[0]);
  const indent = ' '.repeat(keyColumn);
  const key = render(name, true, '');
  // A new entry takes the style of the one before it.
  const line =
    !last.value || isInline(last.value)
      ? `${indent}${key}: ${render(entry, true, '')}\n`
      : `${indent}${key}:\n${' '.repeat(columnOf(text, last.value.range[0]))}${render(entry, false, ' '.repeat(columnOf(text, last.value.range[0])))}\n`;
  return [insertAfter(text, endOf(last.value, last.key.range[2]), line)];
}

function editList(text: string, pair: Pair<ParsedNode, ParsedNode | null>, name: string, entry: OverlayEntry): Edit[] {
  const items = (pair.value as { items: ParsedNode[] }).items;
  const index = items.findIndex((item) => isMap(item) && (item as YAMLMap).get('name') === name);
  const found = items[index];
  const value = entry ? { name, ...entry } : undefined;
  if (found && value) return updateNode(text, found, value);
  if (found) {
    if (items.length === 1) return [emptySection(text, pair, '[]')];
    const dash = text.lastIndexOf('-', found.range[0] - 1);
    return [{ start: lineStartOf(text, dash), end: found.range[2], text: '' }];
  }
  if (!value) return [];
  const last = items.at(-1)!;
  const dash = text.lastIndexOf('-', last.range[0] - 1);
  const between = text.slice(dash + 1, last.range[0]);
  const gap = between.includes('\n') ? ' ' : between;
  const itemColumn = columnOf(text, dash) + 1 + gap.length;
  const line = `${' '.repeat(columnOf(text, dash))}-${gap}${render(value, isInline(last), ' '.repeat(itemColumn))}\n`;
  return [insertAfter(text, last.range[2], line)];
}

/** The section as plain data with the change applied: for sections written in flow style or empty. */
function changedSection(current: unknown, section: Section, name: string, entry: OverlayEntry): unknown {
  if (section === 'providers') {
    const map: Record<string, unknown> = { ...(current !== null && typeof current === 'object' ? current : {}) };
    if (entry) map[name] = entry;
    else delete map[name];
    return map;
  }
  const list: unknown[] = Array.isArray(current) ? current : [];
  const isNamed = (item: unknown) => item !== null && typeof item === 'object' && (item as { name?: unknown }).name === name;
  const kept = list.filter((item) => !isNamed(item) || entry);
  const index = kept.findIndex(isNamed);
  if (!entry) return kept;
  if (index === -1) return [...kept, { name, ...entry }];
  kept[index] = { name, ...entry };
  return kept;
}

/**
 * The text of `text` with entry `name` of `section` set to `entry` (null: deleted). Throws
 * when the file's top level is not a mapping.
 */
export function spliceEntry(text: string, doc: Document.Parsed, section: Section, name: string, entry: OverlayEntry): string {
  if (!isMap(doc.contents) && doc.contents !== null) throw new Error('the config file is not a YAML mapping');
  const pair = sectionPair(doc, section);
  let edits: Edit[];
  if (!pair) {
    if (!entry) return text;
    const body = section === 'providers' ? `  ${render(name, true, '')}: ${render(entry, true, '')}` : `  - ${render({ name, ...entry }, true, '')}`;
    edits = [insertAfter(text, text.length, `${section}:\n${body}\n`)];
  } else if (section === 'providers' && isMap(pair.value) && !pair.value.flow && pair.value.items.length > 0) {
    edits = editProviders(text, pair, name, entry);
  } else if (section !== 'providers' && isSeq(pair.value) && !pair.value.flow && pair.value.items.length > 0) {
    edits = editList(text, pair, name, entry);
  } else {
    // Written inline, or empty: this section's text is rewritten, the rest of the file is not.
    const current: unknown = pair.value ? pair.value.toJSON() : null;
    const next = changedSection(current, section, name, entry);
    edits = [pair.value ? replaceNode(text, pair.value, next) : { start: pair.key.range[1], end: pair.key.range[2], text: `: ${render(next, true, '')}` }];
  }
  let out = text;
  for (const edit of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}
