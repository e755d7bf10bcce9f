//! What an SDK client (a token holder: the tunnelled client API, `/_sdk`) may do: each action
//! checked against the caller's roles (`roles.rs`), then done by the same write the REST API
//! uses. One place decides which permission an action needs, so every client transport refuses
//! alike, and the check and the write happen under the same lock (`App::write`).
//!
//! Which permission, as Twilio names them: create `createConversation`; join (add oneself)
//! `joinConversation`, add someone else `addParticipant`; leave (remove oneself)
//! `leaveConversation`, remove someone else `removeParticipant`; send `sendMessage` (media
//! `sendMediaMessage`); change attributes `editConversationAttributes`, the friendly name
//! `editConversationName`, the unique name `editConversationAttributes` (the emulator's choice:
//! Twilio names no permission for it, and it is data about the conversation as attributes are);
//! delete `deleteConversation`; edit one's own user `editOwnUserInfo`, another's
//! `editAnyUserInfo`. Sending, typing and read horizons need the caller to be a participant
//! first (403 50400), as before roles.

use super::roles::{unauthorized, Permission};
use super::{
    Conversation, ConversationUpdate, Message, NewConversation, NewParticipant, Participant, State,
    TwilioError, User, UserUpdate, Written,
};

/// The permissions a conversation update needs, one per field it changes.
fn update_needs(update: &ConversationUpdate) -> Vec<Permission> {
    let mut needs = Vec::new();
    if update.attributes.is_some() || update.unique_name.is_some() {
        needs.push(Permission::EditConversationAttributes);
    }
    if update.friendly_name.is_some() {
        needs.push(Permission::EditConversationName);
    }
    needs
}

impl State {
    /// The conversation `id` of `service`, if `caller` may look at it (a participant, or a user
    /// who may join it); else 403 50107, as Twilio refuses a private conversation.
    pub fn client_peek(
        &self,
        service: &str,
        id: &str,
        caller: &str,
    ) -> Result<&Conversation, TwilioError> {
        let c = self.find(service, id)?;
        if self.may_peek(caller, c) {
            Ok(c)
        } else {
            Err(unauthorized(caller, Permission::JoinConversation))
        }
    }

    pub fn client_create_conversation(
        &mut self,
        service: &str,
        caller: &str,
        new: NewConversation,
    ) -> Written<Conversation> {
        self.authorize(service, caller, None, Permission::CreateConversation)?;
        let new = NewConversation {
            created_by: Some(caller.to_owned()),
            ..new
        };
        self.create_conversation(service, new)
    }

    /// Joins (`new.identity` is the caller) or adds someone else. A client cannot choose a
    /// role: the conversation's creator joining it gets the Configuration's creator role,
    /// anyone else the default conversation role.
    pub fn client_add_participant(
        &mut self,
        service: &str,
        id: &str,
        caller: &str,
        new: NewParticipant,
    ) -> Written<Participant> {
        let c = self.find(service, id)?;
        let joining = new.identity == caller;
        let needed = if joining {
            Permission::JoinConversation
        } else {
            Permission::AddParticipant
        };
        self.authorize(service, caller, Some(c), needed)?;
        let role_sid = (joining && c.created_by == caller)
            .then(|| self.service(service))
            .transpose()?
            .map(|s| s.role_defaults.conversation_creator_role.clone());
        let new = NewParticipant { role_sid, ..new };
        self.add_participant(service, id, new, true)
    }

    /// Leaves (`who` is the caller, by identity or SID) or removes someone else.
    pub fn client_remove_participant(
        &mut self,
        service: &str,
        id: &str,
        caller: &str,
        who: &str,
    ) -> Written<()> {
        let c = self.find(service, id)?;
        let leaving = who == caller || c.participant(caller).is_some_and(|p| p.sid == who);
        let needed = if leaving {
            Permission::LeaveConversation
        } else {
            Permission::RemoveParticipant
        };
        self.authorize(service, caller, Some(c), needed)?;
        self.remove_participant(service, id, who)
    }

    /// Whether `caller` may send to conversation `id` now (a participant with the permission
    /// for this kind of message); nothing is written.
    pub fn client_may_send(
        &self,
        service: &str,
        id: &str,
        caller: &str,
        media: bool,
    ) -> Result<(), TwilioError> {
        let c = self.find(service, id)?;
        if c.participant(caller).is_none() {
            return Err(TwilioError::not_participant(caller));
        }
        let needed = if media {
            Permission::SendMediaMessage
        } else {
            Permission::SendMessage
        };
        self.authorize(service, caller, Some(c), needed)
    }

    pub fn client_send(
        &mut self,
        service: &str,
        id: &str,
        caller: &str,
        body: String,
        attributes: Option<String>,
    ) -> Written<Message> {
        self.client_may_send(service, id, caller, false)?;
        self.append_message(service, id, caller, Some(body), attributes, true)
    }

    /// A media message: `media` uploaded by the caller, not yet on a message (`media.rs`).
    pub fn client_send_media(
        &mut self,
        service: &str,
        id: &str,
        caller: &str,
        body: Option<String>,
        attributes: Option<String>,
        media: &[String],
    ) -> Written<Message> {
        self.client_may_send(service, id, caller, true)?;
        self.append_media_message(service, id, caller, body, attributes, media, true)
    }

    pub fn client_update_conversation(
        &mut self,
        service: &str,
        id: &str,
        caller: &str,
        update: ConversationUpdate,
    ) -> Written<Conversation> {
        let c = self.find(service, id)?;
        for needed in update_needs(&update) {
            self.authorize(service, caller, Some(c), needed)?;
        }
        self.update_conversation(service, id, update)
    }

    pub fn client_delete_conversation(
        &mut self,
        service: &str,
        id: &str,
        caller: &str,
    ) -> Written<()> {
        let c = self.find(service, id)?;
        self.authorize(service, caller, Some(c), Permission::DeleteConversation)?;
        self.delete_conversation(service, id)
    }

    /// Edits `identity`'s user: one's own with `editOwnUserInfo`, another's with
    /// `editAnyUserInfo`. A client cannot change a role.
    pub fn client_update_user(
        &mut self,
        service: &str,
        caller: &str,
        identity: &str,
        update: UserUpdate,
    ) -> Written<User> {
        let needed = if identity == caller {
            Permission::EditOwnUserInfo
        } else {
            Permission::EditAnyUserInfo
        };
        self.authorize(service, caller, None, needed)?;
        let update = UserUpdate {
            role_sid: None,
            ..update
        };
        self.update_user(service, identity, update)
    }
}

#[cfg(test)]
mod tests {
    //! A least-privilege visitor (a service role without create or join, a conversation role
    //! that may only send and edit or delete its own messages) against the defaults.

    use super::*;
    use crate::model::roles::RoleKind;
    use crate::model::ServiceWebhooks;

    const IS: &str = "IS00000000000000000000000000000001";

    /// The service, a least-privilege service role for `visitor` and a conversation made over
    /// REST with `visitor` in it under a send-only conversation role.
    fn visitor_in_conversation() -> (State, String) {
        let mut s = State::new(vec![(IS.to_owned(), ServiceWebhooks::default())]);
        let names = |l: &[&str]| l.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        let (service_role, _) = s
            .create_role(
                IS,
                "visitor",
                RoleKind::Service,
                names(&["editOwnUserInfo"]),
            )
            .unwrap();
        let sender = [
            "sendMessage",
            "sendMediaMessage",
            "editOwnMessage",
            "editOwnMessageAttributes",
            "deleteOwnMessage",
        ];
        let (conversation_role, _) = s
            .create_role(IS, "sender", RoleKind::Conversation, names(&sender))
            .unwrap();
        let user = UserUpdate {
            role_sid: Some(service_role.sid),
            ..UserUpdate::default()
        };
        s.update_user(IS, "visitor", user).unwrap();
        let (c, _) = s
            .create_conversation(IS, NewConversation::default())
            .unwrap();
        let visitor = NewParticipant {
            role_sid: Some(conversation_role.sid),
            ..NewParticipant::identity("visitor")
        };
        s.add_participant(IS, &c.sid, visitor, false).unwrap();
        (s, c.sid)
    }

    fn refused<T: std::fmt::Debug>(result: Result<T, TwilioError>, permission: &str) {
        let e = result.unwrap_err();
        assert_eq!((e.status, e.code), (403, 50107), "{e:?}");
        assert!(e.message.contains(permission), "{e:?} names {permission}");
    }

    #[test]
    fn a_least_privilege_visitor_may_send_and_nothing_more() {
        let (mut s, sid) = visitor_in_conversation();
        let (m, _) = s
            .client_send(IS, &sid, "visitor", "hi".into(), None)
            .unwrap();
        assert_eq!(m.index, 0);
        assert!(
            s.client_peek(IS, &sid, "visitor").is_ok(),
            "a participant looks"
        );
        let create = s.client_create_conversation(IS, "visitor", NewConversation::default());
        refused(create, "createConversation");
        let (other, _) = s
            .create_conversation(IS, NewConversation::default())
            .unwrap();
        let join = s.client_add_participant(
            IS,
            &other.sid,
            "visitor",
            NewParticipant::identity("visitor"),
        );
        refused(join, "joinConversation");
        refused(s.client_peek(IS, &other.sid, "visitor"), "joinConversation");
        let add = s.client_add_participant(IS, &sid, "visitor", NewParticipant::identity("eve"));
        refused(add, "addParticipant");
        let attributes = ConversationUpdate {
            attributes: Some("{}".into()),
            ..ConversationUpdate::default()
        };
        let update = s.client_update_conversation(IS, &sid, "visitor", attributes);
        refused(update, "editConversationAttributes");
        let rename = ConversationUpdate {
            friendly_name: Some("mine".into()),
            ..ConversationUpdate::default()
        };
        let rename = s.client_update_conversation(IS, &sid, "visitor", rename);
        refused(rename, "editConversationName");
        let unique = ConversationUpdate {
            unique_name: Some("mine".into()),
            ..ConversationUpdate::default()
        };
        let unique = s.client_update_conversation(IS, &sid, "visitor", unique);
        refused(unique, "editConversationAttributes");
        refused(
            s.client_delete_conversation(IS, &sid, "visitor"),
            "deleteConversation",
        );
        refused(
            s.client_remove_participant(IS, &sid, "visitor", "visitor"),
            "leaveConversation",
        );
        let anothers = s.client_update_user(IS, "visitor", "eve", UserUpdate::default());
        refused(anothers, "editAnyUserInfo");
        s.client_update_user(IS, "visitor", "visitor", UserUpdate::default())
            .unwrap();
        let c = s.find(IS, &sid).unwrap();
        assert_eq!(c.participants.len(), 1, "nothing refused was written");
        assert_eq!(c.messages.len(), 1);
    }

    #[test]
    fn the_default_roles_let_a_client_create_join_add_rename_leave_and_delete() {
        let mut s = State::new(vec![(IS.to_owned(), ServiceWebhooks::default())]);
        let (c, _) = s
            .client_create_conversation(IS, "ana", NewConversation::default())
            .unwrap();
        assert_eq!(c.created_by, "ana");
        let (ana, _) = s
            .client_add_participant(IS, &c.sid, "ana", NewParticipant::identity("ana"))
            .unwrap();
        let defaults = s.service(IS).unwrap().role_defaults.clone();
        assert_eq!(ana.role_sid, defaults.conversation_creator_role);
        let (bo, _) = s
            .client_add_participant(IS, &c.sid, "ana", NewParticipant::identity("bo"))
            .unwrap();
        assert_eq!(bo.role_sid, defaults.conversation_role);
        let rename = ConversationUpdate {
            friendly_name: Some("ours".into()),
            attributes: Some("{\"a\":1}".into()),
            ..ConversationUpdate::default()
        };
        s.client_update_conversation(IS, &c.sid, "ana", rename)
            .unwrap();
        let by_bo = ConversationUpdate {
            attributes: Some("{}".into()),
            ..ConversationUpdate::default()
        };
        let refused_bo = s.client_update_conversation(IS, &c.sid, "bo", by_bo);
        refused(refused_bo, "editConversationAttributes");
        assert!(s.client_peek(IS, &c.sid, "eve").is_ok(), "eve may join");
        refused(
            s.client_delete_conversation(IS, &c.sid, "bo"),
            "deleteConversation",
        );
        s.client_remove_participant(IS, &c.sid, "bo", &bo.sid)
            .unwrap();
        s.client_delete_conversation(IS, &c.sid, "ana").unwrap();
    }

    #[test]
    fn a_stranger_is_told_they_are_no_participant_before_any_permission() {
        let (mut s, sid) = visitor_in_conversation();
        let e = s
            .client_send(IS, &sid, "eve", "hi".into(), None)
            .unwrap_err();
        assert_eq!((e.status, e.code), (403, 50400));
    }
}
