/** Client-side helpers shared by the suites that call the gateway over HTTP. */
import OpenAI from 'openai';
import { expect } from 'vitest';

/** The APIError the SDK throws for a call; fails the test when the call succeeds. */
export async function apiErrorOf(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OpenAI.APIError);
  return err as InstanceType<typeof OpenAI.APIError>;
}

/** Status of one plain chat call through the gateway at `gw.url`, without a key (anonymous). */
export async function chatStatus(gw: { url: string }, model: string): Promise<number> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}
