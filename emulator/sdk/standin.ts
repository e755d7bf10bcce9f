// The browser stand-in for @twilio/conversations, for the local emulator: it defines the same
// global (`Twilio.Conversations.Client`) and implements the part of the SDK the widget uses
// (widget/sdk-surface.ts; tests/sdk-types/conformance.ts checks it with tsc) over the emulator's
// realtime WebSocket (`/_sdk/realtime`, emulator/src/realtime.rs). The emulator serves it built
// (esbuild) as a classic script, like the real SDK's min.js.

import type { ConnectionState } from '../../widget/sdk-surface';

type Listener = (...args: any[]) => void;

class Emitter {
  private listeners = new Map<string, Set<Listener>>();

  on(event: string, listener: Listener): this {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  off(event: string, listener: Listener): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  protected emit(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        listener(...args);
      } catch (e) {
        setTimeout(() => { throw e; });
      }
    }
  }
}

interface Wire {
  sid: string;
  [key: string]: any;
}

/** An error from the emulator, shaped like the SDK's (status, code, message). */
class SdkError extends Error {
  constructor(readonly status: number, readonly code: number, message: string) {
    super(message);
  }
}

// The emulator's address: where this script was loaded from.
const scriptUrl = (document.currentScript as HTMLScriptElement | null)?.src ?? location.href;
const realtimeUrl = new URL('/_sdk/realtime', scriptUrl).href.replace(/^http/, 'ws');

const TYPING_TIMEOUT_MS = 5000;

export class Message {
  readonly sid: string;
  readonly index: number;
  readonly author: string | null;
  readonly body: string | null;
  readonly dateCreated: Date | null;
  readonly attributes: unknown;
  readonly participantSid: string | null;

  constructor(readonly conversation: Conversation, wire: Wire) {
    this.sid = wire.sid;
    this.index = wire.index;
    this.author = wire.author ?? null;
    this.body = wire.body ?? null;
    this.dateCreated = wire.dateCreated ? new Date(wire.dateCreated) : null;
    this.attributes = wire.attributes ?? {};
    this.participantSid = wire.participantSid ?? null;
  }
}

export class Participant {
  readonly sid: string;
  readonly identity: string | null;
  readonly lastReadMessageIndex: number | null;
  readonly attributes: unknown;

  constructor(wire: Wire) {
    this.sid = wire.sid;
    this.identity = wire.identity ?? null;
    this.lastReadMessageIndex = wire.lastReadMessageIndex ?? null;
    this.attributes = wire.attributes ?? {};
  }
}

class Paginator<T> {
  readonly hasNextPage = false;

  constructor(
    readonly items: T[],
    readonly hasPrevPage: boolean,
    private readonly previous: () => Promise<Paginator<T>>,
  ) {}

  prevPage(): Promise<Paginator<T>> {
    if (!this.hasPrevPage) return Promise.reject(new Error('No previous page'));
    return this.previous();
  }

  nextPage(): Promise<Paginator<T>> {
    return Promise.reject(new Error('No next page'));
  }
}

export class Conversation extends Emitter {
  sid: string;
  attributes: unknown = {};
  friendlyName: string | null = null;
  state: { current: 'active' | 'inactive' | 'closed'; dateUpdated: Date | null } | undefined;
  lastReadMessageIndex: number | null = null;
  lastMessage: { index?: number } | undefined;
  private typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly client: Client, wire: Wire) {
    super();
    this.sid = wire.sid;
    this.update(wire);
  }

  /** @internal */
  update(wire: Wire): void {
    this.attributes = wire.attributes ?? {};
    this.friendlyName = wire.friendlyName ?? null;
    this.state = { current: wire.state, dateUpdated: wire.dateUpdated ? new Date(wire.dateUpdated) : null };
    this.lastMessage = wire.lastMessageIndex == null ? undefined : { index: wire.lastMessageIndex };
    if ('lastReadMessageIndex' in wire) this.lastReadMessageIndex = wire.lastReadMessageIndex;
  }

  async join(): Promise<Conversation> {
    const me = await this.client.request('join', { sid: this.sid });
    this.lastReadMessageIndex = me.lastReadMessageIndex ?? null;
    return this;
  }

  async getMessages(pageSize = 30, anchor?: number, direction: 'backwards' | 'forward' = 'backwards'): Promise<Paginator<Message>> {
    if (direction !== 'backwards') throw new Error('the emulator stand-in pages backwards only');
    const before = anchor === undefined ? undefined : anchor + 1;
    const page = await this.client.request('getMessages', { sid: this.sid, pageSize, before });
    const items: Message[] = page.items.map((w: Wire) => new Message(this, w));
    const oldest = items.length ? items[0].index : 0;
    return new Paginator(items, page.hasPrevPage, () => this.getMessages(pageSize, oldest - 1));
  }

  async sendMessage(message: string, messageAttributes?: any): Promise<number> {
    return this.client.request('sendMessage', { sid: this.sid, body: message, attributes: messageAttributes });
  }

  async typing(): Promise<void> {
    await this.client.request('typing', { sid: this.sid });
  }

  async setAllMessagesRead(): Promise<number> {
    const index = await this.client.request('setAllMessagesRead', { sid: this.sid });
    if (index != null) this.lastReadMessageIndex = index;
    return index ?? 0;
  }

  async updateLastReadMessageIndex(index: number | null): Promise<number> {
    // The emulator marks everything read; the widget only ever reads to the end.
    void index;
    return this.setAllMessagesRead();
  }

  async getUnreadMessagesCount(): Promise<number | null> {
    if (this.lastReadMessageIndex === null) return null;
    const last = this.lastMessage?.index;
    return last === undefined ? 0 : Math.max(0, last - this.lastReadMessageIndex);
  }

  /** @internal */
  receive(frame: Wire): void {
    switch (frame.event) {
      case 'messageAdded': {
        const message = new Message(this, frame.message);
        this.lastMessage = { index: message.index };
        if (message.author) this.stopTyping(message.author);
        this.emit('messageAdded', message);
        break;
      }
      case 'typingStarted': {
        const participant = new Participant({ sid: '', identity: frame.identity });
        if (!this.typingTimers.has(frame.identity)) this.emit('typingStarted', participant);
        clearTimeout(this.typingTimers.get(frame.identity));
        this.typingTimers.set(frame.identity, setTimeout(() => this.stopTyping(frame.identity), TYPING_TIMEOUT_MS));
        break;
      }
      case 'participantUpdated':
        this.emit('participantUpdated', { participant: new Participant(frame.participant), updateReasons: ['lastReadMessageIndex'] });
        break;
      case 'conversationUpdated':
        this.update(frame.state);
        this.emit('updated', { conversation: this, updateReasons: ['state', 'attributes'] });
        break;
      case 'conversationRemoved':
        this.emit('removed', this);
        break;
    }
  }

  private stopTyping(identity: string): void {
    const timer = this.typingTimers.get(identity);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.typingTimers.delete(identity);
    this.emit('typingEnded', new Participant({ sid: '', identity }));
  }
}

export class Client extends Emitter {
  static readonly version = 'edgechat-emulator-standin';
  connectionState: ConnectionState = 'connecting';
  private socket: WebSocket | undefined;
  private token: string;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private conversations = new Map<string, Conversation>();
  private ready: Promise<void>;
  private shutDown = false;
  private attempts = 0;

  constructor(token: string) {
    super();
    this.token = token;
    this.ready = this.connect(true);
  }

  private setState(state: ConnectionState): void {
    if (this.connectionState === state) return;
    this.connectionState = state;
    this.emit('connectionStateChanged', state);
  }

  private connect(first: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const socket = new WebSocket(realtimeUrl);
      this.socket = socket;
      this.setState('connecting');
      socket.addEventListener('open', async () => {
        try {
          await this.request('auth', { token: this.token });
          this.attempts = 0;
          this.setState('connected');
          if (first) {
            this.emit('stateChanged', 'initialized');
            this.emit('initialized');
          }
        } catch (error) {
          this.setState('denied');
          if (first) this.emit('initFailed', { error });
        }
        resolve();
      });
      socket.addEventListener('message', (e) => this.receive(JSON.parse(String(e.data))));
      socket.addEventListener('close', () => {
        for (const { reject } of this.pending.values()) reject(new SdkError(0, 0, 'connection lost'));
        this.pending.clear();
        if (this.shutDown) return;
        if (first && this.connectionState === 'connecting') {
          this.setState('error');
          this.emit('initFailed', { error: new SdkError(0, 0, 'cannot connect to the emulator') });
          resolve();
          return;
        }
        this.setState('disconnected');
        // Reconnect with backoff, bounded: 0.5 s, 1 s, 2 s ... up to 10 attempts.
        if (this.attempts < 10) {
          const delay = 500 * 2 ** Math.min(this.attempts++, 4);
          setTimeout(() => { this.ready = this.connect(false); }, delay);
        }
      });
    });
  }

  /** @internal */
  request(op: string, args: Record<string, unknown> = {}): Promise<any> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new SdkError(0, 0, 'not connected'));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, op, ...args }));
    });
  }

  private receive(frame: Wire): void {
    if (frame.event) {
      if (frame.event === 'tokenAboutToExpire') this.emit('tokenAboutToExpire');
      else if (frame.event === 'tokenExpired') this.emit('tokenExpired');
      else this.conversations.get(frame.conversation)?.receive(frame);
      return;
    }
    const waiter = this.pending.get(frame.id);
    if (!waiter) return;
    this.pending.delete(frame.id);
    if (frame.error) waiter.reject(new SdkError(frame.error.status, frame.error.code, frame.error.message));
    else waiter.resolve(frame.result);
  }

  private track(wire: Wire): Conversation {
    let conversation = this.conversations.get(wire.sid);
    if (conversation) conversation.update(wire);
    else this.conversations.set(wire.sid, (conversation = new Conversation(this, wire)));
    return conversation;
  }

  async updateToken(token: string): Promise<Client> {
    await this.ready;
    await this.request('updateToken', { token });
    this.token = token;
    return this;
  }

  async createConversation(options: { attributes?: any; friendlyName?: string } = {}): Promise<Conversation> {
    await this.ready;
    return this.track(await this.request('createConversation', options));
  }

  async getConversationBySid(conversationSid: string): Promise<Conversation> {
    await this.ready;
    return this.track(await this.request('getConversation', { sid: conversationSid }));
  }

  async shutdown(): Promise<void> {
    this.shutDown = true;
    this.socket?.close();
    this.setState('disconnected');
  }
}

const global = globalThis as any;
global.Twilio = global.Twilio ?? {};
global.Twilio.Conversations = { ...(global.Twilio.Conversations ?? {}), Client };
