// Plain (non-streamed) chat completions.
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL, chatBody, jsonHeaders, thresholds } from './common.js';

export const options = { vus: Number(__ENV.VUS || 20), duration: __ENV.DURATION || '30s', thresholds };

export default function () {
  const res = http.post(`${BASE_URL}/v1/chat/completions`, chatBody(false), { headers: jsonHeaders });
  check(res, {
    'status 200': (r) => r.status === 200,
    'has a choice': (r) => r.json('choices.0.message') !== undefined,
    'has usage': (r) => r.json('usage.total_tokens') > 0,
  });
}
