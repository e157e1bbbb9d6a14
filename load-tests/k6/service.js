// A REST service routed through the gateway (SERVICE_PATH, e.g. /api/users/42).
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL, API_KEY, thresholds } from './common.js';

const PATH = __ENV.SERVICE_PATH || '/api/users/42';
export const options = { vus: Number(__ENV.VUS || 20), duration: __ENV.DURATION || '30s', thresholds };

export default function () {
  const res = http.get(`${BASE_URL}${PATH}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  check(res, { 'status 2xx': (r) => r.status >= 200 && r.status < 300 });
}
