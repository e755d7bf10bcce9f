// Least privilege for visitors, on a Conversations service, through the official `twilio`
// library: what `npm run deploy` (and `npm start`, on the local emulator) sets up and
// `npm run doctor` checks.
//
// A token carries no role: Twilio gives each new user the service's default service role and
// each new participant its default conversation role. So the service gets two roles of ours and
// they become its defaults:
//   - "edgechat visitor" (service scope): nothing a visitor could use on conversations that are
//     not theirs: no createConversation, no joinConversation (the Worker creates each
//     conversation with the visitor in it), no editOwnUserInfo (a visitor could rename itself
//     "Support"; the Worker names verified users);
//   - "edgechat visitor in a conversation" (conversation scope): send text and media, and edit or
//     delete only their own messages. Reading a conversation one is in needs no permission.
// The creator default is ours too: no visitor creates, and an SDK user that may (an agent app
// on a role of its own) should not get more than it asked for by default.
export const SERVICE_ROLE = { friendlyName: 'edgechat visitor', type: 'service', permissions: ['editOwnMessage'] };
export const CONVERSATION_ROLE = {
  friendlyName: 'edgechat visitor in a conversation',
  type: 'conversation',
  permissions: ['sendMessage', 'sendMediaMessage', 'editOwnMessage', 'editOwnMessageAttributes', 'deleteOwnMessage'],
};
/** What no visitor may hold, in either scope: each would let one visitor reach another's conversation. */
export const FORBIDDEN = [
  'createConversation', 'joinConversation', 'addParticipant', 'removeParticipant', 'editConversationAttributes',
  'editConversationName', 'deleteConversation', 'editAnyMessage', 'editAnyMessageAttributes', 'deleteAnyMessage',
  'editAnyUserInfo', 'editOwnUserInfo', 'editAnyParticipantAttributes',
];

const same = (a, b) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

/**
 * The changes that make `service` least-privilege for visitors, each `{ name, detail, apply }`
 * (nothing applied yet); an empty list when it already is.
 */
export async function planVisitorRoles(client, service) {
  const svc = client.conversations.v1.services(service);
  const roles = await svc.roles.list({ limit: 1000 });
  const changes = [];
  const sids = {};
  for (const want of [SERVICE_ROLE, CONVERSATION_ROLE]) {
    const have = roles.find((r) => r.friendlyName === want.friendlyName && r.type === want.type);
    if (!have) {
      changes.push({
        name: 'visitor roles', detail: `role "${want.friendlyName}" (${want.type}: ${want.permissions.join(', ')})`,
        apply: async () => { sids[want.type] = (await svc.roles.create({ friendlyName: want.friendlyName, type: want.type, permission: want.permissions })).sid; },
      });
    } else {
      sids[want.type] = have.sid;
      if (!same(have.permissions, want.permissions)) {
        changes.push({
          name: 'visitor roles', detail: `role "${want.friendlyName}" permissions ${want.permissions.join(', ')} (was ${have.permissions.join(', ')})`,
          apply: () => svc.roles(have.sid).update({ permission: want.permissions }),
        });
      }
    }
  }
  const config = await svc.configuration().fetch();
  const defaultsOk = sids.service && sids.conversation
    && config.defaultChatServiceRoleSid === sids.service
    && config.defaultConversationRoleSid === sids.conversation
    && config.defaultConversationCreatorRoleSid === sids.conversation;
  if (!defaultsOk) {
    changes.push({
      name: 'visitor roles', detail: 'the visitor roles as the service\'s default roles for new users and participants',
      apply: () => svc.configuration().update({
        defaultChatServiceRoleSid: sids.service,
        defaultConversationRoleSid: sids.conversation,
        defaultConversationCreatorRoleSid: sids.conversation,
      }),
    });
  }
  return changes;
}

/** Applies `planVisitorRoles`' changes in order (roles before the defaults that name them). */
export async function applyVisitorRoles(changes) {
  for (const change of changes) await change.apply();
}

/**
 * Whether `service`'s defaults give new visitors least privilege: `{ ok, detail }`. What a
 * default role holds is judged, not its name, so a site's own roles pass when they hold
 * nothing forbidden.
 */
export async function checkVisitorRoles(client, service) {
  const svc = client.conversations.v1.services(service);
  const config = await svc.configuration().fetch();
  const problems = [];
  for (const [label, sid] of [['new users', config.defaultChatServiceRoleSid], ['new participants', config.defaultConversationRoleSid]]) {
    if (!sid) { problems.push(`${label} get no default role`); continue; }
    const role = await svc.roles(sid).fetch();
    const bad = role.permissions.filter((p) => FORBIDDEN.includes(p));
    if (bad.length) problems.push(`${label} get "${role.friendlyName}", which holds ${bad.join(', ')}`);
  }
  return problems.length
    ? { ok: false, detail: `${problems.join('; ')}: any visitor could read, post in or end another's conversation` }
    : { ok: true, detail: 'new users and participants get roles without createConversation, joinConversation or any other visitor\'s reach' };
}
