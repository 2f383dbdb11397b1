//! The runtime state's vocabulary, spoken by the store's API, the core and the scheduler
//! instead of raw strings and integers: where the bot lives (`SpaceId`, `Platform`), which
//! event (`EventId`), whom a reminder goes to (`Target`) and where it stands
//! (`ReminderState`). How each is stored is the store's business (`store::types`).

use std::fmt;

/// The platforms the bot runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Console,
    Discord,
    Matrix,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::Console, Platform::Discord, Platform::Matrix];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Console => "console",
            Platform::Discord => "discord",
            Platform::Matrix => "matrix",
        }
    }

    pub fn parse(s: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A space the bot lives in: the console, a Discord guild, a Matrix room. Stored as
/// "console", "discord:<guild>", "matrix:<room>".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpaceId(String);

impl SpaceId {
    pub fn console() -> SpaceId {
        SpaceId("console".into())
    }

    pub fn discord(guild: &str) -> SpaceId {
        SpaceId(format!("discord:{guild}"))
    }

    pub fn matrix(room: &str) -> SpaceId {
        SpaceId(format!("matrix:{room}"))
    }

    /// A space id as stored; `None` unless it names a platform this binary knows.
    pub fn parse(s: &str) -> Option<SpaceId> {
        let platform = s.split_once(':').map_or(s, |(p, _)| p);
        Platform::parse(platform).map(|_| SpaceId(s.to_string()))
    }

    pub fn platform(&self) -> Platform {
        let name = self.0.split_once(':').map_or(self.0.as_str(), |(p, _)| p);
        Platform::parse(name).unwrap_or(Platform::Console)
    }

    /// Whether people in both spaces are named by the same platform's user ids (a person's
    /// id on one platform means nobody on another).
    pub fn shares_users_with(&self, other: &SpaceId) -> bool {
        self.platform() == other.platform()
    }

    /// The platform's own id for it (the guild, the room); empty for the console.
    pub fn local(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, id)| id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SpaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An event of the runtime store (its row id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(pub i64);

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Whom a reminder goes to: the space's reminder channel, or one person directly; and where a
/// notice that a reminder failed goes (the space's moderators). `Followers` is never sent: when
/// it falls due the scheduler turns it into one reminder per person who follows what the event
/// is about *then* — so following or unfollowing changes no planned row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Space,
    User(String),
    Moderators,
    Followers,
}

impl Target {
    /// As stored: "space", "user:<id>", "moderators" or "followers".
    pub fn to_db(&self) -> String {
        match self {
            Target::Space => "space".into(),
            Target::User(u) => format!("user:{u}"),
            Target::Moderators => "moderators".into(),
            Target::Followers => "followers".into(),
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        match s {
            "space" => Some(Target::Space),
            "moderators" => Some(Target::Moderators),
            "followers" => Some(Target::Followers),
            _ => s
                .strip_prefix("user:")
                .filter(|u| !u.is_empty())
                .map(|u| Target::User(u.to_string())),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_db())
    }
}

/// Where an owed reminder stands. `Pending` → `Claimed` (by one process, under a lease) →
/// `Sent`, or `Failed` after its retries, `Missed` when it fell due while no scheduler ran
/// (past the grace window), `Cancelled` with its event or subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReminderState {
    Pending,
    Claimed,
    Sent,
    Failed,
    Missed,
    Cancelled,
}

impl ReminderState {
    pub const ALL: [ReminderState; 6] = [
        ReminderState::Pending,
        ReminderState::Claimed,
        ReminderState::Sent,
        ReminderState::Failed,
        ReminderState::Missed,
        ReminderState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReminderState::Pending => "pending",
            ReminderState::Claimed => "claimed",
            ReminderState::Sent => "sent",
            ReminderState::Failed => "failed",
            ReminderState::Missed => "missed",
            ReminderState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<ReminderState> {
        ReminderState::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for ReminderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_forms_read_back_as_the_same_values() {
        for t in [
            Target::Space,
            Target::User("@ana:example.org".into()),
            Target::Moderators,
        ] {
            assert_eq!(Target::parse(&t.to_db()), Some(t));
        }
        assert_eq!(Target::parse("user:"), None);
        assert_eq!(Target::parse("channel"), None);
        for s in ReminderState::ALL {
            assert_eq!(ReminderState::parse(s.as_str()), Some(s));
        }
        let room = SpaceId::matrix("!abc:example.org");
        assert_eq!(room.as_str(), "matrix:!abc:example.org");
        assert_eq!(room.platform(), Platform::Matrix);
        assert_eq!(room.local(), "!abc:example.org");
        assert_eq!(SpaceId::parse(room.as_str()), Some(room));
        assert_eq!(SpaceId::console().platform(), Platform::Console);
        assert_eq!(SpaceId::parse("irc:#x"), None);
    }
}

/// What a person can follow (`/follow`): a topic or an actor of the atlas, by slug. Slugs,
/// never ids, so that a re-import of the atlas cannot break a follow.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Topic(String),
    Actor(String),
}

impl Subject {
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Topic(_) => "topic",
            Subject::Actor(_) => "actor",
        }
    }

    pub fn slug(&self) -> &str {
        match self {
            Subject::Topic(s) | Subject::Actor(s) => s,
        }
    }

    /// A subject as stored (kind, slug); `None` for a kind this binary does not know.
    pub fn from_parts(kind: &str, slug: String) -> Option<Subject> {
        match kind {
            "topic" => Some(Subject::Topic(slug)),
            "actor" => Some(Subject::Actor(slug)),
            _ => None,
        }
    }
}
