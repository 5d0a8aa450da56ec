import { RespMessageReader } from './wire-subscriber';

function bulk(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

function message(channel: string, payload: string): string {
  return `*3\r\n${bulk('message')}${bulk(channel)}${bulk(payload)}`;
}

describe('RespMessageReader', () => {
  const payload = (id: string, createdAtMs: number): string =>
    JSON.stringify({
      v: '2',
      kind: 'token',
      id,
      expiresAtMs: '9',
      createdAtMs: String(createdAtMs),
    });

  function read(chunks: readonly string[]): { messages: [string, number][]; subscribed: number } {
    const messages: [string, number][] = [];
    let subscribed = 0;
    const reader = new RespMessageReader({
      onMessage: (id, createdAtMs) => messages.push([id, createdAtMs]),
      onSubscribed: () => subscribed++,
    });
    for (const chunk of chunks) reader.push(Buffer.from(chunk, 'latin1'));
    return { messages, subscribed };
  }

  it('reads the confirmation and each message’s id and creation time', () => {
    const stream =
      `*3\r\n${bulk('subscribe')}${bulk('rescind:ch')}:1\r\n` +
      message('rescind:ch', payload('a-1', 1700000000001)) +
      message('rescind:ch', payload('a-2', 1700000000002));
    expect(read([stream])).toEqual({
      messages: [
        ['a-1', 1700000000001],
        ['a-2', 1700000000002],
      ],
      subscribed: 1,
    });
  });

  it('reads messages split at every byte across reads', () => {
    const stream = message('c', payload('x', 5)) + message('c', payload('y', 6));
    const chunks = [...stream];
    expect(read(chunks).messages).toEqual([
      ['x', 5],
      ['y', 6],
    ]);
  });
});
