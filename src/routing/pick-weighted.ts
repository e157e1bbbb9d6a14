/** Something with a positive weight. */
export interface Weighted {
  weight: number;
}

/**
 * Picks one item with probability proportional to its weight. `random` returns [0, 1) and is
 * injected so tests can drive it.
 */
export function pickWeighted<T extends Weighted>(items: readonly T[], random: () => number = Math.random): T | undefined {
  if (items.length <= 1) return items[0];
  let total = 0;
  for (const item of items) total += item.weight;
  let point = random() * total;
  for (const item of items) {
    point -= item.weight;
    if (point < 0) return item;
  }
  // Floating-point leftovers land on the last item.
  return items[items.length - 1];
}
