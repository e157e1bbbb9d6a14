/** Waiting in tests for something that happens after the call that caused it returned. */

/** Retries `check` every 50 ms until it passes; after `tries` failures, throws its last error. */
export async function eventually(check: () => Promise<void>, tries = 100): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await check();
      return;
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
