// What a widget test in the browser runs against, started once per file: a host site on its own
// origin, the local Twilio emulator, a Worker under `wrangler dev` pointed at it (REST and the
// SDK's realtime endpoint) with the file's sites, and Debian's Chromium.
import { startWorker, testSecrets } from './worker.mjs';
import { startEmulator } from './emulator.mjs';
import { launchBrowser } from './browser.mjs';
import { startHost } from './host.mjs';

/** `sites(host)` gives the Worker's sites ({id: config JSON}) once the host's origin is known. */
export async function startWidgetEnv({ service, sites }) {
  const secrets = testSecrets();
  const host = await startHost();
  const emu = await startEmulator({ secrets, services: [service] });
  // As deployed: visitors may neither create nor join conversations (the Worker starts them).
  await emu.leastPrivilege(service);
  const worker = await startWorker({
    secrets: { ...secrets, TWILIO_API_BASE: emu.url, TWILIO_REALTIME_URL: emu.realtimeUri },
    sites: sites(host),
  });
  const browser = await launchBrowser();
  return {
    host, emu, worker, browser, secrets, client: emu.client(),
    async stop() {
      await browser.close();
      worker.stop();
      emu.stop();
      await host.stop();
    },
  };
}
