/** `/v1/messages`: canonical answers in Anthropic's Messages wire shape, whole or streamed. */
import type { ChatFormat } from './chat-format.js';
import { messageIdOf, toAnthropicMessage } from './anthropic-message.js';
import { MessagesStreamEncoder } from './anthropic-stream.js';

export const anthropicMessagesFormat: ChatFormat = {
  renderResponse: (call, response, usage) => toAnthropicMessage(response, messageIdOf(call.id), usage),
  streamEncoder: (call, upstreamModel) => new MessagesStreamEncoder(messageIdOf(call.id), upstreamModel),
};
