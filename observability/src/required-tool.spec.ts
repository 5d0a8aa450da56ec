import { PROMETHEUS_INSTALL, requiredTool } from './support/required-tool';

describe('a tool the suite needs', () => {
  it('is found on PATH', () => {
    expect(requiredTool('node', 'unused')).toMatch(/node$/);
  });

  it('fails the suite when missing, saying how to install it', () => {
    expect(() => requiredTool('rescind-no-such-tool', PROMETHEUS_INSTALL)).toThrow(
      'rescind-no-such-tool not found on PATH: install it with `apt-get install -y prometheus`',
    );
  });
});
