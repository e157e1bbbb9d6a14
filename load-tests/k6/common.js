// Shared settings for the k6 scripts: where the gateway is, which key and model to use.
export const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8787';
export const API_KEY = __ENV.API_KEY || 'sk-anonymous';
export const MODEL = __ENV.MODEL || 'mock';

export const jsonHeaders = {
  'content-type': 'application/json',
  authorization: `Bearer ${API_KEY}`,
};

export function chatBody(stream) {
  return JSON.stringify({
    model: MODEL,
    stream,
    stream_options: stream ? { include_usage: true } : undefined,
    messages: [{ role: 'user', content: 'Write one sentence about load testing.' }],
  });
}

export const thresholds = {
  http_req_failed: ['rate<0.01'],
  http_req_duration: [`p(95)<${__ENV.P95_MS || 500}`],
};
