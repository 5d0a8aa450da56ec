import { accessSync, constants, statSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's `chromium` package puts its launcher here. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The browser the suite drives: `CHROMIUM_PATH`, else Debian's. Playwright's own browser download
 * is never used. A missing browser fails the suite with how to get one; it never skips.
 */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['CHROMIUM_PATH']?.trim();
  const candidate =
    configured === undefined || configured === '' ? DEFAULT_CHROMIUM_PATH : configured;
  if (!isExecutableFile(candidate)) {
    const source = candidate === configured ? 'CHROMIUM_PATH' : 'the default (CHROMIUM_PATH unset)';
    throw new Error(
      `No Chromium executable at ${candidate}, ${source}: install Debian's chromium package ` +
        '(apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium or Chrome executable',
    );
  }
  return candidate;
}

/** Headless Chromium from {@link chromiumPath}. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true });
}
