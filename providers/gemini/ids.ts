import { randomUUID } from 'node:crypto';

/** Makes ids for tool calls (Gemini has none) and for answers without a `responseId`. */
export type IdSource = (prefix: string) => string;

export const randomId: IdSource = (prefix) => `${prefix}${randomUUID().replace(/-/g, '').slice(0, 24)}`;
