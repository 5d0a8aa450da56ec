import { STATUS_CODES } from 'node:http';
import { type Socket } from 'node:net';

/**
 * Answers requests that Node's HTTP parser rejects (oversized headers, garbage) with a JSON body
 * and the instance header, instead of a bare `400 Bad Request`.
 */
export function clientErrorHandler(instanceId: string) {
  return (error: Error & { code?: string }, socket: Socket): void => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? 431
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 408
          : 400;
    const body = JSON.stringify({
      statusCode: status,
      error: 'ERR_BAD_REQUEST',
      message: STATUS_CODES[status],
    });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `x-instance-id: ${instanceId}\r\n\r\n${body}`,
    );
  };
}
