// The part of @twilio/conversations the widget uses (widget/src/sdk.rs binds exactly this).
// tests/sdk-types/conformance.ts proves with `tsc --noEmit` that the real SDK's declarations
// (@twilio/conversations 3.0.1) satisfy it, so a change of SDK version that drops or changes
// something the widget calls fails the build of the tests.

export type ConnectionState = 'unknown' | 'disconnecting' | 'disconnected' | 'retrying' | 'connecting' | 'connected' | 'denied' | 'error';

export interface SdkMedia {
  readonly sid: string;
  readonly contentType: string;
  readonly filename: string | null;
  readonly size: number;
  /** A link to the bytes from the media service, valid for a few minutes. */
  getContentTemporaryUrl(): Promise<string | null>;
}

export interface SdkMessage {
  readonly sid: string;
  readonly index: number;
  readonly author: string | null;
  readonly body: string | null;
  readonly dateCreated: Date | null;
  readonly attributes: unknown;
  readonly attachedMedia: SdkMedia[] | null;
}

export interface SdkParticipant {
  readonly sid: string;
  readonly identity: string | null;
  readonly lastReadMessageIndex: number | null;
}

export interface SdkPaginator<T> {
  readonly items: T[];
  readonly hasPrevPage: boolean;
  prevPage(): Promise<SdkPaginator<T>>;
}

export interface SdkConversation {
  readonly sid: string;
  readonly attributes: unknown;
  readonly state: { readonly current: 'active' | 'inactive' | 'closed' } | undefined;
  /** `notParticipating` for a conversation the SDK only peeked (the visitor is not in it). */
  readonly status: 'notParticipating' | 'joined' | 'unknown';
  readonly lastReadMessageIndex: number | null;
  readonly lastMessage: { readonly index?: number } | undefined;
  readonly dateUpdated: Date | null;
  getMessages(pageSize?: number, anchor?: number, direction?: 'backwards' | 'forward'): Promise<SdkPaginator<SdkMessage>>;
  sendMessage(message: string | { contentType: string; filename?: string; media: Blob }, messageAttributes?: any): Promise<number>;
  typing(): Promise<void>;
  advanceLastReadMessageIndex(index: number): Promise<number>;
  getParticipants(): Promise<SdkParticipant[]>;
  getUnreadMessagesCount(): Promise<number | null>;
  on(event: 'messageAdded', listener: (message: SdkMessage) => void): unknown;
  on(event: 'typingStarted', listener: (participant: SdkParticipant) => void): unknown;
  on(event: 'typingEnded', listener: (participant: SdkParticipant) => void): unknown;
  on(event: 'participantUpdated', listener: (data: { participant: SdkParticipant }) => void): unknown;
  on(event: 'updated', listener: (data: { conversation: SdkConversation }) => void): unknown;
  on(event: 'removed', listener: (conversation: SdkConversation) => void): unknown;
}

export interface SdkClient {
  readonly connectionState: ConnectionState;
  getConversationBySid(conversationSid: string): Promise<SdkConversation>;
  getSubscribedConversations(): Promise<SdkPaginator<SdkConversation> & { readonly hasNextPage: boolean; nextPage(): Promise<SdkPaginator<SdkConversation>> }>;
  updateToken(token: string): Promise<SdkClient>;
  shutdown(): Promise<void>;
  on(event: 'initialized', listener: () => void): unknown;
  on(event: 'initFailed', listener: (data: { error?: unknown }) => void): unknown;
  on(event: 'connectionStateChanged', listener: (state: ConnectionState) => void): unknown;
  on(event: 'tokenAboutToExpire', listener: () => void): unknown;
  on(event: 'tokenExpired', listener: () => void): unknown;
}

export interface SdkClientConstructor {
  /** `Twilsock.uri` points the realtime connection at the local emulator. */
  new (token: string, options?: { Twilsock?: { uri: string } }): SdkClient;
}
