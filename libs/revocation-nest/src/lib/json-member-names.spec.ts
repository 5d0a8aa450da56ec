import { hasDuplicateMember, jsonMemberNames } from './json-member-names';

describe('jsonMemberNames', () => {
  it('lists the top-level names, decoded, and nothing from values or nested objects', () => {
    expect(
      jsonMemberNames(
        ' { "a" : "sub", "s\\u0075b":{"sub":[1,"}",{"x":2}]}, "c\\"":"\\\\" ,"d":null } ',
      ),
    ).toEqual(['a', 'sub', 'c"', 'd']);
    expect(jsonMemberNames('{}')).toEqual([]);
  });

  it('answers undefined for what is not a JSON object', () => {
    for (const text of ['"sub"', '[1]', 'not json', '{"a":1', '{"a" 1}', '{"a":"x}']) {
      expect(jsonMemberNames(text)).toBeUndefined();
    }
  });

  it('finds a repeated name, however it is spelled', () => {
    expect(hasDuplicateMember('{"sub":"a","s\\u0075b":"b"}')).toBe(true);
    expect(hasDuplicateMember('{"username":"sub","sub":"a","x":{"sub":1}}')).toBe(false);
  });
});
