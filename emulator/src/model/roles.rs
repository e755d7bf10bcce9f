//! Roles and permissions, as Twilio Conversations has them: every service holds roles of two
//! scopes. A user holds a service role (what they may do anywhere in the service: create and
//! join conversations, edit their own user); a participant holds a conversation role (what they
//! may do in that conversation: send, leave, add others...). What a client may do is the union
//! of its user's service role and, in a conversation it is in, its participant's role.
//!
//! Why here, in the pure model: the real SDK must be refused by the emulator exactly where
//! Twilio refuses it (a visitor with a least-privilege role must not create, join, peek or
//! rename), and every transport must refuse alike. The REST API (account credentials) is never
//! restricted; only clients (`client.rs`) are checked.
//!
//! Every service starts with Twilio's four default roles ("service admin", "service user",
//! "channel admin", "channel user") and a configuration naming the defaults: a new user gets
//! "service user", a participant "channel user", and a client joining the conversation it
//! created "channel admin". The defaults are permissive (a plain user may create and join), as
//! on a new Twilio service. `State::reset` keeps roles and configuration, as it keeps webhook
//! settings: they are the service's setup, not the data a test makes.

use std::collections::BTreeSet;

use super::{new_sid, now_iso, Conversation, State, TwilioError, Written};

/// Twilio's permission names for service roles (the Role resource's "Service-scope
/// permissions").
pub const SERVICE_PERMISSIONS: &[&str] = &[
    "addParticipant",
    "createConversation",
    "deleteAnyMessage",
    "deleteConversation",
    "editAnyMessage",
    "editAnyMessageAttributes",
    "editAnyUserInfo",
    "editConversationAttributes",
    "editConversationName",
    "editOwnMessage",
    "editOwnMessageAttributes",
    "editOwnUserInfo",
    "joinConversation",
    "removeParticipant",
];

/// Twilio's permission names for conversation roles: the Role resource's "Conversation-scope
/// permissions", plus the four Twilio accepts there that its table omits (its default
/// conversation roles hold some of them).
pub const CONVERSATION_PERMISSIONS: &[&str] = &[
    "addNonChatParticipant",
    "addParticipant",
    "deleteAnyMessage",
    "deleteConversation",
    "deleteOwnMessage",
    "editAnyMessage",
    "editAnyMessageAttributes",
    "editAnyParticipantAttributes",
    "editAnyUserInfo",
    "editConversationAttributes",
    "editConversationName",
    "editNotificationLevel",
    "editOwnMessage",
    "editOwnMessageAttributes",
    "editOwnParticipantAttributes",
    "editOwnUserInfo",
    "leaveConversation",
    "removeParticipant",
    "sendMediaMessage",
    "sendMessage",
];

/// A permission the emulator checks (only the ones some client action needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    AddParticipant,
    CreateConversation,
    DeleteConversation,
    EditAnyUserInfo,
    EditConversationAttributes,
    EditConversationName,
    EditOwnUserInfo,
    JoinConversation,
    LeaveConversation,
    RemoveParticipant,
    SendMediaMessage,
    SendMessage,
}

impl Permission {
    pub fn name(self) -> &'static str {
        match self {
            Permission::AddParticipant => "addParticipant",
            Permission::CreateConversation => "createConversation",
            Permission::DeleteConversation => "deleteConversation",
            Permission::EditAnyUserInfo => "editAnyUserInfo",
            Permission::EditConversationAttributes => "editConversationAttributes",
            Permission::EditConversationName => "editConversationName",
            Permission::EditOwnUserInfo => "editOwnUserInfo",
            Permission::JoinConversation => "joinConversation",
            Permission::LeaveConversation => "leaveConversation",
            Permission::RemoveParticipant => "removeParticipant",
            Permission::SendMediaMessage => "sendMediaMessage",
            Permission::SendMessage => "sendMessage",
        }
    }
}

/// A role's scope: a user's (`service`) or a participant's (`conversation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleKind {
    Service,
    Conversation,
}

impl RoleKind {
    pub fn name(self) -> &'static str {
        match self {
            RoleKind::Service => "service",
            RoleKind::Conversation => "conversation",
        }
    }

    pub fn parse(name: &str) -> Option<RoleKind> {
        match name {
            "service" => Some(RoleKind::Service),
            "conversation" => Some(RoleKind::Conversation),
            _ => None,
        }
    }

    fn permissions(self) -> &'static [&'static str] {
        match self {
            RoleKind::Service => SERVICE_PERMISSIONS,
            RoleKind::Conversation => CONVERSATION_PERMISSIONS,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Role {
    pub sid: String,
    pub friendly_name: String,
    pub kind: RoleKind,
    pub permissions: Vec<String>,
    pub date_created: String,
    pub date_updated: String,
}

/// The service's Configuration: which role a new user, a new participant and a conversation's
/// creator (joining it from a client) get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleDefaults {
    pub chat_service_role: String,
    pub conversation_role: String,
    pub conversation_creator_role: String,
}

/// Fields to change in the Configuration; `None` leaves one as it is.
#[derive(Clone, Debug, Default)]
pub struct RoleDefaultsUpdate {
    pub chat_service_role: Option<String>,
    pub conversation_role: Option<String>,
    pub conversation_creator_role: Option<String>,
}

fn role(name: &str, kind: RoleKind, permissions: &[&str]) -> Role {
    let now = now_iso();
    Role {
        sid: new_sid("RL"),
        friendly_name: name.to_owned(),
        kind,
        permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
        date_created: now.clone(),
        date_updated: now,
    }
}

/// A new service's roles, as Twilio makes them, and the configuration that names the defaults.
pub fn default_roles() -> (Vec<Role>, RoleDefaults) {
    let service_admin = role("service admin", RoleKind::Service, SERVICE_PERMISSIONS);
    let service_user = role(
        "service user",
        RoleKind::Service,
        &["createConversation", "joinConversation", "editOwnUserInfo"],
    );
    let channel_admin = role(
        "channel admin",
        RoleKind::Conversation,
        &[
            "sendMessage",
            "sendMediaMessage",
            "leaveConversation",
            "editNotificationLevel",
            "deleteConversation",
            "addParticipant",
            "removeParticipant",
            "editConversationName",
            "editConversationAttributes",
            "editAnyParticipantAttributes",
            "editOwnMessage",
            "editOwnMessageAttributes",
            "deleteOwnMessage",
            "editAnyMessage",
            "editAnyMessageAttributes",
            "deleteAnyMessage",
        ],
    );
    let channel_user = role(
        "channel user",
        RoleKind::Conversation,
        &[
            "sendMessage",
            "sendMediaMessage",
            "leaveConversation",
            "editNotificationLevel",
            "editOwnParticipantAttributes",
            "editOwnMessage",
            "editOwnMessageAttributes",
            "deleteOwnMessage",
        ],
    );
    let defaults = RoleDefaults {
        chat_service_role: service_user.sid.clone(),
        conversation_role: channel_user.sid.clone(),
        conversation_creator_role: channel_admin.sid.clone(),
    };
    (
        vec![service_admin, service_user, channel_admin, channel_user],
        defaults,
    )
}

/// Permissions as Twilio takes them: at least one, each a name of the role's scope.
fn check_permissions(kind: RoleKind, permissions: &[String]) -> Result<(), TwilioError> {
    if permissions.is_empty() {
        return Err(TwilioError::invalid(
            "Permission is required (at least one)",
        ));
    }
    match permissions
        .iter()
        .find(|p| !kind.permissions().contains(&p.as_str()))
    {
        Some(unknown) => Err(TwilioError::invalid(format!(
            "Permission {unknown:?} is not a permission of a {} role",
            kind.name()
        ))),
        None => Ok(()),
    }
}

fn role_not_found(sid: &str) -> TwilioError {
    TwilioError::new(404, 20404, format!("Role {sid} not found"))
}

/// Twilio's refusal of a client action its roles do not allow.
pub fn unauthorized(identity: &str, needed: Permission) -> TwilioError {
    TwilioError::new(
        403,
        50107,
        format!(
            "User not authorized for command: {identity} lacks the {} permission",
            needed.name()
        ),
    )
}

impl State {
    pub fn role(&self, service: &str, sid: &str) -> Result<&Role, TwilioError> {
        self.service(service)?
            .roles
            .iter()
            .find(|r| r.sid == sid)
            .ok_or_else(|| role_not_found(sid))
    }

    /// `sid` names a role of `kind` in `service` (what a user's or participant's `RoleSid` and
    /// the Configuration's defaults must be); `field` names the parameter in the refusal.
    pub fn check_role(
        &self,
        service: &str,
        sid: &str,
        kind: RoleKind,
        field: &str,
    ) -> Result<(), TwilioError> {
        match self.role(service, sid) {
            Ok(r) if r.kind == kind => Ok(()),
            Ok(_) => Err(TwilioError::invalid(format!(
                "{field} {sid} is not a {} role",
                kind.name()
            ))),
            Err(_) => Err(TwilioError::invalid(format!(
                "{field} {sid} is not a role of this service"
            ))),
        }
    }

    pub fn create_role(
        &mut self,
        service: &str,
        friendly_name: &str,
        kind: RoleKind,
        permissions: Vec<String>,
    ) -> Written<Role> {
        if friendly_name.is_empty() || friendly_name.chars().count() > 64 {
            return Err(TwilioError::invalid(
                "FriendlyName is required, up to 64 characters",
            ));
        }
        check_permissions(kind, &permissions)?;
        let mut made = role(friendly_name, kind, &[]);
        made.permissions = permissions;
        self.service_mut(service)?.roles.push(made.clone());
        Ok((made, Vec::new()))
    }

    /// Replaces a role's permissions (Twilio's update takes the whole list).
    pub fn update_role(
        &mut self,
        service: &str,
        sid: &str,
        permissions: Vec<String>,
    ) -> Written<Role> {
        let kind = self.role(service, sid)?.kind;
        check_permissions(kind, &permissions)?;
        let r = self
            .service_mut(service)?
            .roles
            .iter_mut()
            .find(|r| r.sid == sid)
            .ok_or_else(|| role_not_found(sid))?;
        r.permissions = permissions;
        r.date_updated = now_iso();
        Ok((r.clone(), Vec::new()))
    }

    /// Deletes a role no one holds. The emulator's decision: a role that is a default of the
    /// Configuration or held by a user or participant is refused (400), so no one is left
    /// holding a role that is gone.
    pub fn delete_role(&mut self, service: &str, sid: &str) -> Written<()> {
        self.role(service, sid)?;
        let s = self.service(service)?;
        let d = &s.role_defaults;
        let is_default = [
            &d.chat_service_role,
            &d.conversation_role,
            &d.conversation_creator_role,
        ]
        .iter()
        .any(|default| default.as_str() == sid);
        let held = s.users.values().any(|u| u.role_sid == sid)
            || s.conversations
                .iter()
                .flat_map(|c| c.participants.iter())
                .any(|p| p.role_sid == sid);
        if is_default || held {
            let why = if is_default {
                "a default of the service's Configuration"
            } else {
                "held by a user or participant"
            };
            return Err(TwilioError::invalid(format!("Role {sid} is {why}")));
        }
        self.service_mut(service)?.roles.retain(|r| r.sid != sid);
        Ok(((), Vec::new()))
    }

    /// Changes the Configuration's default roles, each checked to be a role of the right scope.
    pub fn update_role_defaults(
        &mut self,
        service: &str,
        update: RoleDefaultsUpdate,
    ) -> Written<RoleDefaults> {
        let checks = [
            (
                &update.chat_service_role,
                RoleKind::Service,
                "DefaultChatServiceRoleSid",
            ),
            (
                &update.conversation_role,
                RoleKind::Conversation,
                "DefaultConversationRoleSid",
            ),
            (
                &update.conversation_creator_role,
                RoleKind::Conversation,
                "DefaultConversationCreatorRoleSid",
            ),
        ];
        for (sid, kind, field) in checks {
            if let Some(sid) = sid {
                self.check_role(service, sid, kind, field)?;
            }
        }
        let defaults = &mut self.service_mut(service)?.role_defaults;
        if let Some(sid) = update.chat_service_role {
            defaults.chat_service_role = sid;
        }
        if let Some(sid) = update.conversation_role {
            defaults.conversation_role = sid;
        }
        if let Some(sid) = update.conversation_creator_role {
            defaults.conversation_creator_role = sid;
        }
        Ok((defaults.clone(), Vec::new()))
    }

    /// What `identity` may do in `service` and, when given, in `conversation`: its user's
    /// service role (the default one for a user not made yet) and its participant's role there.
    pub fn permissions_of(
        &self,
        service: &str,
        identity: &str,
        conversation: Option<&Conversation>,
    ) -> BTreeSet<&str> {
        let Ok(s) = self.service(service) else {
            return BTreeSet::new();
        };
        let user_role = s
            .users
            .get(identity)
            .map_or(&s.role_defaults.chat_service_role, |u| &u.role_sid);
        let participant_role = conversation
            .and_then(|c| c.participant(identity))
            .map(|p| &p.role_sid);
        [Some(user_role), participant_role]
            .into_iter()
            .flatten()
            .filter_map(|sid| s.roles.iter().find(|r| &r.sid == sid))
            .flat_map(|r| r.permissions.iter().map(String::as_str))
            .collect()
    }

    /// Refuses (403 50107, naming the permission) unless `identity` holds `needed` in
    /// `service` or, given one, in `conversation`.
    pub fn authorize(
        &self,
        service: &str,
        identity: &str,
        conversation: Option<&Conversation>,
        needed: Permission,
    ) -> Result<(), TwilioError> {
        if self
            .permissions_of(service, identity, conversation)
            .contains(needed.name())
        {
            Ok(())
        } else {
            Err(unauthorized(identity, needed))
        }
    }

    /// Whether `identity` may read conversation `c`'s properties (the SDK's "peek" and the
    /// conversation's Sync document). Twilio keeps a conversation private to its participants;
    /// the emulator's decision for the rest: a user who may join it (`joinConversation`) may
    /// look at it first.
    pub fn may_peek(&self, identity: &str, c: &Conversation) -> bool {
        c.participant(identity).is_some()
            || self
                .permissions_of(&c.service_sid, identity, None)
                .contains(Permission::JoinConversation.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NewConversation, NewParticipant, ServiceWebhooks};

    const IS: &str = "IS00000000000000000000000000000001";

    fn state() -> State {
        State::new(vec![(IS.to_owned(), ServiceWebhooks::default())])
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| (*p).to_owned()).collect()
    }

    fn by_name<'a>(s: &'a State, name: &str) -> &'a Role {
        let roles = &s.service(IS).unwrap().roles;
        roles.iter().find(|r| r.friendly_name == name).unwrap()
    }

    #[test]
    fn a_service_starts_with_twilios_four_roles_and_names_its_defaults() {
        let s = state();
        let service = s.service(IS).unwrap();
        let roles: Vec<(&str, RoleKind)> = service
            .roles
            .iter()
            .map(|r| (r.friendly_name.as_str(), r.kind))
            .collect();
        assert_eq!(
            roles,
            [
                ("service admin", RoleKind::Service),
                ("service user", RoleKind::Service),
                ("channel admin", RoleKind::Conversation),
                ("channel user", RoleKind::Conversation),
            ]
        );
        let d = &service.role_defaults;
        assert_eq!(d.chat_service_role, by_name(&s, "service user").sid);
        assert_eq!(d.conversation_role, by_name(&s, "channel user").sid);
        assert_eq!(
            d.conversation_creator_role,
            by_name(&s, "channel admin").sid
        );
        let user = &by_name(&s, "service user").permissions;
        assert!(user.contains(&"createConversation".to_owned()));
        assert!(user.contains(&"joinConversation".to_owned()));
        assert!(user.contains(&"editOwnUserInfo".to_owned()));
        assert_eq!(by_name(&s, "service admin").permissions.len(), 14);
        let member = &by_name(&s, "channel user").permissions;
        assert!(member.contains(&"sendMessage".to_owned()));
        assert!(!member.contains(&"addParticipant".to_owned()));
        for r in &service.roles {
            check_permissions(r.kind, &r.permissions).expect("defaults use Twilio's names");
        }
    }

    #[test]
    fn roles_are_checked_as_twilio_checks_them() {
        let mut s = state();
        let unknown = s
            .create_role(IS, "r", RoleKind::Service, names(&["sendMessage"]))
            .unwrap_err();
        assert_eq!((unknown.status, unknown.code), (400, 20001));
        assert!(unknown.message.contains("\"sendMessage\""), "{unknown:?}");
        let none = s.create_role(IS, "r", RoleKind::Conversation, Vec::new());
        assert_eq!(none.unwrap_err().code, 20001);
        let nameless = s.create_role(IS, "", RoleKind::Conversation, names(&["sendMessage"]));
        assert_eq!(nameless.unwrap_err().code, 20001);
        let (made, _) = s
            .create_role(
                IS,
                "visitor",
                RoleKind::Conversation,
                names(&["sendMessage"]),
            )
            .unwrap();
        let (updated, _) = s
            .update_role(IS, &made.sid, names(&["sendMessage", "leaveConversation"]))
            .unwrap();
        assert_eq!(
            updated.permissions,
            names(&["sendMessage", "leaveConversation"])
        );
        let wrong_scope = s.update_role(IS, &made.sid, names(&["createConversation"]));
        assert_eq!(wrong_scope.unwrap_err().code, 20001);
        let missing = s
            .update_role(IS, "RL0", names(&["sendMessage"]))
            .unwrap_err();
        assert_eq!((missing.status, missing.code), (404, 20404));
        s.delete_role(IS, &made.sid).unwrap();
        assert_eq!(s.role(IS, &made.sid).unwrap_err().status, 404);
    }

    #[test]
    fn a_role_in_use_or_a_default_is_not_deleted() {
        let mut s = state();
        let default = s
            .service(IS)
            .unwrap()
            .role_defaults
            .conversation_role
            .clone();
        assert_eq!(s.delete_role(IS, &default).unwrap_err().code, 20001);
        let (held, _) = s
            .create_role(IS, "held", RoleKind::Conversation, names(&["sendMessage"]))
            .unwrap();
        let (c, _) = s
            .create_conversation(IS, NewConversation::default())
            .unwrap();
        let ana = NewParticipant {
            role_sid: Some(held.sid.clone()),
            ..NewParticipant::identity("ana")
        };
        s.add_participant(IS, &c.sid, ana, false).unwrap();
        let refused = s.delete_role(IS, &held.sid).unwrap_err();
        assert!(refused.message.contains("held by"), "{refused:?}");
    }

    #[test]
    fn the_configuration_takes_only_roles_of_the_right_scope() {
        let mut s = state();
        let admin = by_name(&s, "service admin").sid.clone();
        let member = by_name(&s, "channel user").sid.clone();
        let wrong = RoleDefaultsUpdate {
            conversation_role: Some(admin.clone()),
            ..RoleDefaultsUpdate::default()
        };
        let refused = s.update_role_defaults(IS, wrong).unwrap_err();
        assert_eq!((refused.status, refused.code), (400, 20001));
        assert!(refused.message.contains("DefaultConversationRoleSid"));
        let unknown = RoleDefaultsUpdate {
            chat_service_role: Some("RL0".into()),
            ..RoleDefaultsUpdate::default()
        };
        assert_eq!(s.update_role_defaults(IS, unknown).unwrap_err().code, 20001);
        let right = RoleDefaultsUpdate {
            chat_service_role: Some(admin.clone()),
            conversation_creator_role: Some(member.clone()),
            ..RoleDefaultsUpdate::default()
        };
        let (d, _) = s.update_role_defaults(IS, right).unwrap();
        assert_eq!(
            (d.chat_service_role, d.conversation_creator_role),
            (admin, member)
        );
        let (u, _) = s.ensure_user(IS, "ana").unwrap();
        assert_eq!(
            u.role_sid,
            s.service(IS).unwrap().role_defaults.chat_service_role
        );
    }

    #[test]
    fn permissions_are_the_union_of_the_users_and_the_participants_roles() {
        let mut s = state();
        let (c, _) = s
            .create_conversation(IS, NewConversation::default())
            .unwrap();
        let before = s.permissions_of(IS, "ana", Some(&c));
        assert!(before.contains("joinConversation") && !before.contains("sendMessage"));
        s.add_participant(IS, &c.sid, NewParticipant::identity("ana"), false)
            .unwrap();
        let c = s.find(IS, &c.sid).unwrap();
        let after = s.permissions_of(IS, "ana", Some(c));
        assert!(after.contains("joinConversation") && after.contains("sendMessage"));
        assert!(s
            .authorize(IS, "ana", Some(c), Permission::SendMessage)
            .is_ok());
        let refused = s
            .authorize(IS, "ana", Some(c), Permission::DeleteConversation)
            .unwrap_err();
        assert_eq!((refused.status, refused.code), (403, 50107));
        assert!(refused.message.contains("deleteConversation"));
        assert!(s.may_peek("bo", c), "a user who may join may look");
    }
}
