// The published declaration of the host page's API (public/edgechat.d.ts): what the README shows
// compiles, and misuses are type errors (each `@ts-expect-error` fails the build if it compiles).
import type {} from '../../public/edgechat.d.ts';

const chat = window.edgechat;
chat('open');
chat('hide');
chat('identify', { token: 'eyJ...' });
chat('reset');
chat('prefill', { email: 'ada@example.com', terms: true });
chat('send', 'Is this in stock?');
chat('setLocale', 'de');
chat('on', 'message', (detail) => console.log(detail.author.toUpperCase(), detail.body, detail.index + 1));
chat('on', 'unread', (detail) => detail.count.toFixed());
chat('off', 'error', (detail) => detail.code);
addEventListener('edgechat:conversation-started', (e) => e.detail.conversation.startsWith('CH'));

// @ts-expect-error an unknown command
chat('frobnicate');
// @ts-expect-error identify takes {token}
chat('identify', 'eyJ...');
// @ts-expect-error send takes text
chat('send');
// @ts-expect-error no such event
chat('on', 'typing', () => {});
// @ts-expect-error a message's detail has no count
chat('on', 'message', (detail) => detail.count);
