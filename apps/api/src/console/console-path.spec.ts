import { consoleWithoutSlash } from './console-path';

describe('consoleWithoutSlash (the console typed with a trailing slash, on Fastify)', () => {
  it.each([
    ['/admin/console/', '/admin/console'],
    ['/admin/console/?tab=fleet', '/admin/console?tab=fleet'],
  ])('reads %s as %s', (url, expected) => {
    expect(consoleWithoutSlash(url)).toBe(expected);
  });

  it.each([
    '/admin/console',
    '/admin/console/console.js',
    '/admin/console//',
    '/admin/consoles/',
    '/me/',
    '/',
  ])('leaves %s alone', (url) => {
    expect(consoleWithoutSlash(url)).toBe(url);
  });
});
