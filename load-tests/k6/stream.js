// Streamed chat completions: reads the whole SSE body and checks it ends with [DONE].
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL, chatBody, jsonHeaders, thresholds } from './common.js';

export const options = { vus: Number(__ENV.VUS || 20), duration: __ENV.DURATION || '30s', thresholds };

export default function () {
  const res = http.post(`${BASE_URL}/v1/chat/completions`, chatBody(true), { headers: jsonHeaders });
  check(res, {
    'status 200': (r) => r.status === 200,
    'is SSE': (r) => String(r.headers['Content-Type']).startsWith('text/event-stream'),
    'ends with [DONE]': (r) => r.body.trimEnd().endsWith('data: [DONE]'),
    'carries usage': (r) => r.body.includes('"usage"'),
  });
}
