/**
 * A Chromium for the browser tests, found without a system package: `GRADNOISE_CHROMIUM` when set, else a system
 * Chromium where one is installed, else the headless build that ships inside the `@sparticuz/chromium` devDependency
 * (unpacked into the OS temp folder on first use, ~2.5 s, then reused).
 */
import fs from 'node:fs';

export interface ChromiumLaunch {
  executablePath: string;
  args: string[];
  /** Where the browser came from, for messages. */
  source: 'GRADNOISE_CHROMIUM' | 'system' | '@sparticuz/chromium';
}

/** Flags for a closed network: without them Chromium keeps trying to reach Google's services. */
const QUIET_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const SYSTEM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export async function findChromium(): Promise<ChromiumLaunch> {
  const override = process.env['GRADNOISE_CHROMIUM'];
  if (override) {
    if (!fs.existsSync(override)) throw new Error(`GRADNOISE_CHROMIUM=${override}: no such file`);
    return { executablePath: override, args: QUIET_FLAGS, source: 'GRADNOISE_CHROMIUM' };
  }
  const system = SYSTEM_PATHS.find((file) => fs.existsSync(file));
  if (system) return { executablePath: system, args: QUIET_FLAGS, source: 'system' };
  const bundled = (await import('@sparticuz/chromium')).default;
  const executablePath = await bundled.executablePath();
  // The bundled build is made for serverless hosts: its own flags (single process, SwiftShader GL) are what it needs.
  return { executablePath, args: [...bundled.args, ...QUIET_FLAGS.filter((f) => !bundled.args.includes(f))], source: '@sparticuz/chromium' };
}
