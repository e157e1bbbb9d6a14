import { GatewayError } from '../core/errors.js';
import type { ChatRequest } from '../core/types.js';

/** Rules the JSON schema cannot say: what each role's message needs. */
export function checkChatRequest(req: ChatRequest): void {
  req.messages.forEach((message, i) => {
    const at = `messages[${i}]`;
    switch (message.role) {
      case 'tool':
        if (!message.tool_call_id) {
          throw new GatewayError('missing_field', `'${at}.tool_call_id' is required for role 'tool'`, { param: `${at}.tool_call_id` });
        }
        if (message.content == null) throw new GatewayError('missing_field', `'${at}.content' is required`, { param: `${at}.content` });
        break;
      case 'assistant':
        if (message.content == null && !(message.tool_calls && message.tool_calls.length > 0)) {
          throw new GatewayError('invalid_request', `'${at}' needs content or tool_calls`, { param: `${at}.content` });
        }
        break;
      case 'system':
      case 'developer':
        if (message.content == null) throw new GatewayError('missing_field', `'${at}.content' is required`, { param: `${at}.content` });
        if (Array.isArray(message.content) && message.content.some((part) => part.type !== 'text')) {
          throw new GatewayError('invalid_request', `'${at}.content' may only hold text parts for role '${message.role}'`, {
            param: `${at}.content`,
          });
        }
        break;
      case 'user':
        if (message.content == null) throw new GatewayError('missing_field', `'${at}.content' is required`, { param: `${at}.content` });
        break;
    }
  });
  if (req.response_format?.type === 'json_schema' && !req.response_format.json_schema) {
    throw new GatewayError('missing_field', "'response_format.json_schema' is required for type 'json_schema'", {
      param: 'response_format.json_schema',
    });
  }
  if (req.tool_choice && typeof req.tool_choice === 'object') {
    const name = req.tool_choice.function.name;
    if (!req.tools?.some((tool) => tool.function.name === name)) {
      throw new GatewayError('invalid_request', `'tool_choice' names '${name}', which is not among 'tools'`, { param: 'tool_choice' });
    }
  }
}
