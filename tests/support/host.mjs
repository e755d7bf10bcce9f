// A host site on its own 127.0.0.1 origin: the pages a site owner would paste the script tag into,
// so the widget is tested cross-origin, as it runs in production. Pages are registered by path.
import { createServer } from 'node:http';

export async function startHost() {
  const pages = new Map();
  const server = createServer((req, res) => {
    const page = pages.get(new URL(req.url, 'http://x').pathname);
    if (!page) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return res.end('no such page');
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...page.headers });
    res.end(page.html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    /** Serves `html` at `path`; returns its URL. */
    page(path, html, headers = {}) {
      pages.set(new URL(path, 'http://x').pathname, { html, headers });
      return origin + path;
    },
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** A host page that embeds the widget with the one script tag. */
export function hostPage({ workerUrl, site, head = '', body = '<main><h1>A host page</h1><p id="content">Some content.</p></main>', before = '', attrs = '' }) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>host</title>${head}</head><body>${body}${before}<script src="${workerUrl}/embed.js" data-site="${site}"${attrs} async></script></body></html>`;
}
