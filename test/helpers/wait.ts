/** Waiting in tests for something that happens after the call that caused it returned: the suite's one polling helper. */

export interface EventuallyOptions {
  /** Checks before giving up, 50 ms apart (default 100: five seconds). */
  tries?: number;
  /** What is awaited, for the failure message when `check` answers false rather than throwing. */
  what?: string;
}

/**
 * Retries `check` every 50 ms until it passes: it passes when it neither throws nor answers
 * `false`. After the last try it throws the check's own error, or names `what`.
 */
export async function eventually(check: () => unknown, options: EventuallyOptions | number = {}): Promise<void> {
  const { tries = 100, what = 'the condition' } = typeof options === 'number' ? { tries: options } : options;
  for (let i = 1; ; i++) {
    try {
      if ((await check()) !== false) return;
      if (i >= tries) throw new Error(`never happened: ${what}`);
    } catch (err) {
      if (i >= tries) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
