import type { Socket } from 'node:net';

/**
 * What a request Node could not even parse gets (headers over `maxHeaderSize`, a malformed
 * request line): the gateway's error shape, written on the raw socket because no route, and no
 * Fastify reply, exists yet.
 */
export function replyToClientError(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const message = tooLarge ? 'the request headers are larger than the gateway accepts (16 KB)' : 'the request could not be parsed';
  const body = JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: tooLarge ? 'headers_too_large' : 'invalid_request' } });
  socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
