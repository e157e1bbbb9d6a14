/**
 * Tags in the usage aggregates. A call with tags is added once under each of its tags (at most
 * 16, src/http/gateway-tags.ts), a call without under NO_TAG, in a family of aggregates of its
 * own beside the per-call one. Distinct tags per hour bucket are capped: past the cap a new tag
 * is counted under OTHER_TAG, so a client inventing tags cannot grow the store without bound.
 * Both names hold parentheses, which a client's tag never does, so they cannot be mistaken for one.
 */

export const NO_TAG = '(none)';
export const OTHER_TAG = '(other)';

/** Default for `ledger.tags_per_hour`. */
export const DEFAULT_TAGS_PER_HOUR = 100;

/** The tags a record is aggregated under, each once. */
export function tagsOf(tags: readonly string[]): readonly string[] {
  if (tags.length === 0) return [NO_TAG];
  return tags.length === 1 ? tags : [...new Set(tags)];
}

/** True for NO_TAG and OTHER_TAG, which take no place under the cap. */
export function isBuiltInTag(tag: string): boolean {
  return tag.startsWith('(');
}

/**
 * The name a tag is stored under in one hour bucket, given the tags that bucket already holds
 * (updated in place): itself while there is room, else OTHER_TAG. The memory store's copy of
 * what the Redis store's script does.
 */
export function admitTag(known: Set<string>, tag: string, max: number): string {
  if (isBuiltInTag(tag) || known.has(tag)) return tag;
  if (known.size >= max) return OTHER_TAG;
  known.add(tag);
  return tag;
}
