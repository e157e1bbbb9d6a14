/** The Responses API as a ChatFormat: whole answers as a `response` object, streams as semantic events. */
import type { ChatFormat } from '../http/chat-format.js';
import { buildResponse, endOf, outputOf, toResponseUsage } from './response-object.js';
import type { ResponsesContext } from './responses-context.js';
import { ResponsesStreamEncoder } from './stream-encoder.js';
import type { ResponseObject } from './wire-types.js';

export function responsesFormat(context: ResponsesContext): ChatFormat {
  return {
    renderResponse(_call, answer, usage, source): ResponseObject | Promise<ResponseObject> {
      const { output, finish } = outputOf(answer, context.hex);
      const response = buildResponse(context.responseId, context.createdAt, context.echo, {
        ...endOf(finish),
        model: answer.model || source.upstreamModel,
        output,
        usage: toResponseUsage(usage),
      });
      return context.persist ? context.persist(response).then(() => response) : response;
    },
    streamEncoder: (_call, upstreamModel) => new ResponsesStreamEncoder(context, upstreamModel),
  };
}
