/**
 * An offline provider: deterministic answers, real streaming, configurable latency. It lets
 * the default config run with no keys and no network, and lets load tests measure the
 * gateway rather than a vendor. Token counts are a cheap ~4 characters/token estimate, reported
 * as the provider's own usage.
 */
import type { CallSignal } from '../src/core/call-signal.js';
import type { ProviderAdapter } from '../src/core/adapter.js';
import type { ChatChunk, ChatMessage, ChatRequest, ChatResponse, ToolCall, Usage } from '../src/core/types.js';
import type { MockProviderConfig } from '../src/config/types.js';

function textOf(content: ChatMessage['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? part.text : '[image]')).join(' ');
}

function countTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/** A minimal instance of a JSON schema, so JSON-mode answers validate. */
export function sampleFromSchema(schema: unknown, depth = 0): unknown {
  const s = (schema ?? {}) as Record<string, unknown>;
  if (depth > 6) return null;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if ('const' in s) return s.const;
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(props)) out[key] = sampleFromSchema(sub, depth + 1);
      return out;
    }
    case 'array':
      return s.minItems ? [sampleFromSchema(s.items, depth + 1)] : [];
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'string': {
      if (s.format === 'email') return 'mock@example.com';
      const min = typeof s.minLength === 'number' ? s.minLength : 0;
      return 'mock'.padEnd(Math.max(4, min), 'k');
    }
    default:
      return s.properties ? sampleFromSchema({ ...s, type: 'object' }, depth) : 'mock';
  }
}

interface MockAnswer {
  content: string | null;
  toolCalls?: ToolCall[];
  finishReason: 'stop' | 'length' | 'tool_calls';
  usage: Usage;
}

/** The deterministic answer for a request: a tool call, JSON, or an echo of the last user turn. */
export function answerFor(req: ChatRequest): MockAnswer {
  const promptTokens = req.messages.reduce((sum, m) => sum + 4 + countTokens(textOf(m.content)), 0);
  const last = req.messages[req.messages.length - 1];
  const wantsTool = req.tools && req.tools.length > 0 && req.tool_choice !== 'none' && last?.role !== 'tool';
  if (wantsTool) {
    const forced = typeof req.tool_choice === 'object' ? req.tool_choice.function.name : undefined;
    const tool = req.tools!.find((t) => t.function.name === forced) ?? req.tools![0]!;
    const args = JSON.stringify(sampleFromSchema(tool.function.parameters ?? { type: 'object' }));
    return {
      content: null,
      toolCalls: [{ id: `call_mock_${tool.function.name}`, type: 'function', function: { name: tool.function.name, arguments: args } }],
      finishReason: 'tool_calls',
      usage: { promptTokens, completionTokens: 5 + countTokens(args), cachedTokens: 0 },
    };
  }
  let content: string;
  const format = req.response_format;
  if (format?.type === 'json_schema') content = JSON.stringify(sampleFromSchema(format.json_schema.schema ?? { type: 'object' }));
  else if (format?.type === 'json_object') content = JSON.stringify({ answer: 'mock' });
  else {
    const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
    const said = textOf(lastUser?.content ?? '').slice(0, 200);
    content = `This is a mock answer from ${req.model}. You said: ${said}`;
  }
  const limit = req.max_completion_tokens ?? req.max_tokens;
  let finishReason: MockAnswer['finishReason'] = 'stop';
  if (limit !== undefined && countTokens(content) > limit) {
    content = content.slice(0, limit * 4);
    finishReason = 'length';
  }
  return { content, finishReason, usage: { promptTokens, completionTokens: countTokens(content), cachedTokens: 0 } };
}

/** Waits `ms`, or less when the call is abandoned meanwhile (the caller then sees `signal.aborted`). */
function pause(ms: number, signal: CallSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** Splits text into word-sized pieces that concatenate back to it. */
function splitWords(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [text];
}

export function createMockAdapter(name: string, config: MockProviderConfig): ProviderAdapter {
  const latencyMs = config.latency_ms ?? 0;
  const chunkDelayMs = config.chunk_delay_ms ?? 0;
  let counter = 0;
  const nextId = () => `chatcmpl-mock-${(++counter).toString(36)}`;

  return {
    kind: 'mock',
    name,
    async chat(req, signal): Promise<ChatResponse> {
      if (latencyMs > 0) await pause(latencyMs, signal);
      if (signal.aborted) throw signal.reason;
      const answer = answerFor(req);
      const choices = Array.from({ length: req.n ?? 1 }, (_, index) => ({
        index,
        message: { role: 'assistant' as const, content: answer.content, ...(answer.toolCalls ? { tool_calls: answer.toolCalls } : {}) },
        finishReason: answer.finishReason,
      }));
      return { id: nextId(), created: Math.floor(Date.now() / 1000), model: req.model, choices, usage: answer.usage };
    },
    // A batch per chunk: the mock sends each piece as its own read, as a slow provider does.
    async *stream(req, signal): AsyncIterable<ChatChunk[]> {
      if (latencyMs > 0) await pause(latencyMs, signal);
      if (signal.aborted) throw signal.reason;
      const answer = answerFor(req);
      yield [{ type: 'meta', id: nextId(), model: req.model }];
      const choices = req.n ?? 1;
      for (let choice = 0; choice < choices; choice++) {
        if (answer.toolCalls) {
          for (const [toolIndex, call] of answer.toolCalls.entries()) {
            yield [{ type: 'tool-call-delta', choice, toolIndex, id: call.id, name: call.function.name, argumentsDelta: '' }];
            yield [{ type: 'tool-call-delta', choice, toolIndex, argumentsDelta: call.function.arguments }];
          }
        } else {
          for (const piece of splitWords(answer.content ?? '')) {
            if (chunkDelayMs > 0) await pause(chunkDelayMs, signal);
            if (signal.aborted) throw signal.reason;
            yield [{ type: 'text-delta', choice, text: piece }];
          }
        }
        yield [{ type: 'finish', choice, finishReason: answer.finishReason }];
      }
      yield [{ type: 'usage', usage: answer.usage }];
    },
    async embed(req, signal) {
      if (signal.aborted) throw signal.reason;
      const inputs = typeof req.input === 'string' ? [req.input] : req.input;
      const dims = req.dimensions ?? 8;
      // A stable vector per input: the same text always embeds the same way.
      const embeddings = inputs.map((text) => {
        let h = 2166136261;
        for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
        return Array.from({ length: dims }, (_, i) => (((h >>> (i % 24)) & 0xff) - 127.5) / 127.5);
      });
      return { model: req.model, embeddings, usage: { promptTokens: inputs.reduce((s, t) => s + countTokens(t), 0) } };
    },
  };
}
