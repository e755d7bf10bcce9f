// Types for edgechat's host page API: `window.edgechat(command, argument)`.
// Served by the Worker at /edgechat.d.ts; reference it with
//   /// <reference path="./edgechat.d.ts" />
// Every command works before the widget has loaded (queued) and after.

export interface EdgechatEvents {
  /** The widget has loaded. */
  ready: undefined;
  open: undefined;
  close: undefined;
  /** A message from someone else arrived. */
  message: { author: string; body: string; index: number };
  /** The launcher's unread count changed. */
  unread: { count: number };
  /** The visitor's first message created this conversation. */
  'conversation-started': { conversation: string };
  /** The visitor, an agent or the site ended it. */
  'conversation-ended': { conversation: string };
  /**
   * `widget_failed`: the chat stopped working (the page may reload it);
   * `user_token_refused`: the user token did not verify (`message` says why; the visitor chats
   * anonymously).
   */
  error: { code: 'widget_failed' | 'user_token_refused' | (string & {}); message: string };
}

export type EdgechatEvent = keyof EdgechatEvents;
export type EdgechatHandler<E extends EdgechatEvent> = (detail: EdgechatEvents[E]) => void;

export interface Edgechat {
  /** Opens, closes or toggles the panel. */
  (command: 'open' | 'close' | 'toggle'): void;
  /** Shows or hides the launcher (the open panel stays). */
  (command: 'show' | 'hide'): void;
  /** Signs a user in with the HS256 user token your backend signed (see the README). */
  (command: 'identify', user: { token: string }): void;
  /** Forgets the user, the visitor and the conversation in this browser; starts anonymous. */
  (command: 'reset'): void;
  /** Answers for the pre-chat form, by field name (the visitor sees them filled in). */
  (command: 'prefill', answers: Record<string, string | boolean>): void;
  /** Opens the panel and sends `text` as the visitor. */
  (command: 'send', text: string): void;
  /** Switches the widget's language (a BCP 47 tag such as 'de' or 'pt-BR'). */
  (command: 'setLocale', locale: string): void;
  /** Calls `handler` with each event's detail (also an `edgechat:<event>` DOM event on window). */
  <E extends EdgechatEvent>(command: 'on' | 'off', event: E, handler: EdgechatHandler<E>): void;
  /** Commands queued before embed.js loaded. */
  q?: ArrayLike<unknown>[];
}

declare global {
  interface Window {
    edgechat: Edgechat;
  }
  interface WindowEventMap {
    'edgechat:ready': CustomEvent<undefined>;
    'edgechat:open': CustomEvent<undefined>;
    'edgechat:close': CustomEvent<undefined>;
    'edgechat:message': CustomEvent<EdgechatEvents['message']>;
    'edgechat:unread': CustomEvent<EdgechatEvents['unread']>;
    'edgechat:conversation-started': CustomEvent<EdgechatEvents['conversation-started']>;
    'edgechat:conversation-ended': CustomEvent<EdgechatEvents['conversation-ended']>;
    'edgechat:error': CustomEvent<EdgechatEvents['error']>;
  }
}
