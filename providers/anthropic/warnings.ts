/** The request fields `toAnthropicRequest` leaves out, for `x-gateway-warnings`. */
import { droppedField, turnAndToolFields, warningsFor } from '../shared/warnings.js';
import { continuesToolTurn } from './to-request.js';

export const anthropicWarnings = warningsFor([
  droppedField('temperature', 'anthropic', (req) => req.temperature !== undefined),
  droppedField('top_p', 'anthropic', (req) => req.top_p !== undefined),
  droppedField('top_k', 'anthropic', (req) => req.top_k !== undefined),
  droppedField('presence_penalty', 'anthropic', (req) => req.presence_penalty !== undefined),
  droppedField('frequency_penalty', 'anthropic', (req) => req.frequency_penalty !== undefined),
  droppedField('seed', 'anthropic', (req) => req.seed !== undefined),
  {
    isSet: (req) => req.thinking !== undefined && continuesToolTurn(req.messages),
    warning: 'thinking was left out: the gateway does not carry thinking blocks back into a tool-use turn',
  },
  ...turnAndToolFields('anthropic'),
  // JSON output is asked for in `system` (see toAnthropicRequest): an instruction, not a guarantee.
  droppedField('response_format strict mode', 'anthropic', (req) => req.response_format?.type === 'json_schema' && req.response_format.json_schema.strict === true),
]);
