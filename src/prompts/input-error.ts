/** Turns the first input-schema violation into a 400 that names the field, the way OpenAI names params. */
import type { ErrorObject } from 'ajv';
import { GatewayError } from '../core/errors.js';
import { toParamPath } from '../plugins/error-handler.js';

// Combinator keywords report after the concrete fault; the concrete one says most.
const VAGUE = new Set(['anyOf', 'oneOf', 'if', 'not']);

export function inputError(promptName: string, errors: readonly ErrorObject[] | null | undefined): GatewayError {
  const issue = errors?.find((e) => !VAGUE.has(e.keyword)) ?? errors?.[0];
  if (!issue) return new GatewayError('invalid_request', `the body does not match the input of prompt '${promptName}'`);
  switch (issue.keyword) {
    case 'required': {
      const param = toParamPath(issue.instancePath, String(issue.params.missingProperty));
      return new GatewayError('missing_field', `'${param}' is required`, { param });
    }
    case 'additionalProperties': {
      const param = toParamPath(issue.instancePath, String(issue.params.additionalProperty));
      return new GatewayError('invalid_request', `'${param}' is not an input of prompt '${promptName}'`, { param });
    }
    case 'enum': {
      const param = toParamPath(issue.instancePath);
      const allowed = (issue.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return new GatewayError('invalid_request', `'${param ?? 'body'}' must be one of: ${allowed}`, { param });
    }
    default: {
      const param = toParamPath(issue.instancePath);
      let detail = issue.message ?? 'is invalid';
      if (issue.keyword === 'type') detail = detail.replace(/^must be /, 'must be of type ');
      return new GatewayError('invalid_request', `'${param ?? 'body'}' ${detail}`, { param });
    }
  }
}
