import { decodeReply, encodeCommand, formatReplyRaw } from './resp-codec';
import { RespReplyError } from './resp-reply.error';

const decode = (text: string) => decodeReply(Buffer.from(text))?.value;

describe('RESP codec', () => {
  it('encodes a command as an array of bulk strings', () => {
    expect(encodeCommand(['SET', 'k', 'vé']).toString()).toBe(
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nvé\r\n',
    );
  });

  it('decodes simple strings, errors, integers, bulk strings, nil and nested arrays', () => {
    expect(decode('+OK\r\n')).toBe('OK');
    expect(decode(':42\r\n')).toBe(42);
    expect(decode('$5\r\nhe\r\no\r\n')).toBe('he\r\no');
    expect(decode('$-1\r\n')).toBeNull();
    expect(decode('*2\r\n$1\r\na\r\n*1\r\n:1\r\n')).toEqual(['a', [1]]);
    const error = decode('-WRONGTYPE Operation against a key\r\n');
    expect(error).toBeInstanceOf(RespReplyError);
    expect((error as RespReplyError).code).toBe('WRONGTYPE');
  });

  it('waits for the rest of a partial reply', () => {
    expect(decodeReply(Buffer.from('$5\r\nhel'))).toBeUndefined();
    expect(decodeReply(Buffer.from('*2\r\n:1\r\n'))).toBeUndefined();
    expect(decodeReply(Buffer.from(':1'))).toBeUndefined();
  });

  it('renders replies like redis-cli --raw', () => {
    expect(formatReplyRaw(['a', 'b'])).toBe('a\nb');
    expect(formatReplyRaw(null)).toBe('');
    expect(formatReplyRaw(3)).toBe('3');
  });
});
