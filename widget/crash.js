// What is left when the app fails for good (a panic: the wasm can run nothing more). Plain DOM
// work with no call into the wasm: the app's dead launcher and panel are replaced by a copy of
// the launcher and a panel that says the chat cannot go on and offers to reload; what was in the
// composer goes into the outbox (edgechat_core::chat::outbox's format), so the reloaded page
// sends it; and the host page hears `edgechat:error` with the stable code `widget_failed`.
let words = ['The chat stopped working. What you typed is kept: reload the page to go on.', 'Reload'];

/** The words in the visitor's language, handed over as soon as they are known. */
export function crashWords(text, reload) {
  words = [text, reload];
}

export function crashed(root, site, why) {
  try {
    const draft = root.querySelector('textarea')?.value.trim();
    if (draft) {
      const now = Date.now();
      try { localStorage.setItem(`edgechat:${site}:outbox:${now * 1000 + 999}`, `${now} - 0\n${draft}`); } catch {}
    }
    const ec = root.querySelector('.ec');
    if (ec) {
      const doc = root.ownerDocument;
      const panel = doc.createElement('div');
      panel.className = 'panel failed';
      panel.setAttribute('role', 'alertdialog');
      panel.setAttribute('aria-label', words[0]);
      const text = doc.createElement('p');
      text.className = 'notice';
      text.textContent = words[0];
      const reload = doc.createElement('button');
      reload.type = 'button';
      reload.className = 'primary';
      reload.textContent = words[1];
      reload.addEventListener('click', () => location.reload());
      panel.append(text, reload);
      const wasOpen = ec.querySelector('.panel:not([hidden])');
      panel.hidden = !wasOpen;
      // A copy: the app's own launcher calls into the wasm, which can run nothing now.
      const launcher = ec.querySelector('button.launcher')?.cloneNode(true);
      launcher?.addEventListener('click', () => {
        panel.hidden = !panel.hidden;
        launcher.setAttribute('aria-expanded', String(!panel.hidden));
        if (!panel.hidden) reload.focus();
      });
      ec.replaceChildren(...[launcher, panel].filter(Boolean));
      if (wasOpen) reload.focus();
    }
  } catch {}
  try {
    dispatchEvent(new CustomEvent('edgechat:error', { detail: { code: 'widget_failed', message: `the chat stopped working${why ? `: ${why}` : ''}` } }));
  } catch {}
}
