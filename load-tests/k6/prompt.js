// A prompt API (default: the shipped `sentiment` prompt).
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL, jsonHeaders, thresholds } from './common.js';

const PROMPT = __ENV.PROMPT || 'sentiment';
export const options = { vus: Number(__ENV.VUS || 20), duration: __ENV.DURATION || '30s', thresholds };

export default function () {
  const res = http.post(`${BASE_URL}/prompts/${PROMPT}`, JSON.stringify({ text: 'I love how fast this is.' }), { headers: jsonHeaders });
  check(res, {
    'status 200': (r) => r.status === 200,
    'has output': (r) => r.json('output') !== undefined,
  });
}
