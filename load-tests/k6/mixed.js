// A mixed day: mostly plain chat, some streams, some prompt API and REST calls, in parallel scenarios.
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL, API_KEY, chatBody, jsonHeaders, thresholds } from './common.js';

const duration = __ENV.DURATION || '60s';
export const options = {
  thresholds,
  scenarios: {
    chat: { executor: 'constant-arrival-rate', rate: Number(__ENV.CHAT_RPS || 50), timeUnit: '1s', duration, preAllocatedVUs: 50, exec: 'chat' },
    stream: { executor: 'constant-arrival-rate', rate: Number(__ENV.STREAM_RPS || 20), timeUnit: '1s', duration, preAllocatedVUs: 30, exec: 'stream' },
    prompt: { executor: 'constant-arrival-rate', rate: Number(__ENV.PROMPT_RPS || 10), timeUnit: '1s', duration, preAllocatedVUs: 20, exec: 'prompt' },
    service: { executor: 'constant-arrival-rate', rate: Number(__ENV.SERVICE_RPS || 20), timeUnit: '1s', duration, preAllocatedVUs: 20, exec: 'service' },
  },
};

export function chat() {
  const res = http.post(`${BASE_URL}/v1/chat/completions`, chatBody(false), { headers: jsonHeaders, tags: { kind: 'chat' } });
  check(res, { 'chat 200': (r) => r.status === 200 });
}

export function stream() {
  const res = http.post(`${BASE_URL}/v1/chat/completions`, chatBody(true), { headers: jsonHeaders, tags: { kind: 'stream' } });
  check(res, { 'stream ends with [DONE]': (r) => r.status === 200 && r.body.trimEnd().endsWith('data: [DONE]') });
}

export function prompt() {
  const res = http.post(`${BASE_URL}/prompts/${__ENV.PROMPT || 'sentiment'}`, JSON.stringify({ text: 'Fine, I guess.' }), {
    headers: jsonHeaders,
    tags: { kind: 'prompt' },
  });
  check(res, { 'prompt 200': (r) => r.status === 200 });
}

export function service() {
  const res = http.get(`${BASE_URL}${__ENV.SERVICE_PATH || '/api/users/42'}`, { headers: { authorization: `Bearer ${API_KEY}` }, tags: { kind: 'service' } });
  check(res, { 'service 2xx': (r) => r.status >= 200 && r.status < 300 });
}
