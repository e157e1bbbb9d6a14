/** Text helpers for the canonical messages, which every non-OpenAI wire format needs. */
import type { ChatMessage, TextPart } from '../../src/core/types.js';

type InstructionMessage = Extract<ChatMessage, { role: 'system' | 'developer' }>;

/** The text of a string-or-parts content; parts join without a separator, as OpenAI reads them. */
export function textOf(content: string | TextPart[] | null | undefined): string {
  if (content == null) return '';
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

export function isInstruction(message: ChatMessage): message is InstructionMessage {
  return message.role === 'system' || message.role === 'developer';
}

/**
 * The text of every system and developer message, in order: Anthropic and Gemini take
 * instructions apart from the turns, and neither knows a `developer` role.
 */
export function instructionTexts(messages: readonly ChatMessage[]): string[] {
  return messages.filter(isInstruction).map((message) => textOf(message.content));
}
