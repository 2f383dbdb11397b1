//! How the runtime vocabulary (`crate::domain`) is stored, on SQLite and PostgreSQL alike: each
//! type as the text (or number) its column has always held, so existing databases read
//! unchanged. A stored value this binary does not know is a decoding error, never a guess.
//!
//! One impl per type for every database sqlx has (generic over `Database`, bounded by what
//! `String` and `i64` already do there), so the two backends cannot drift apart.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

pub use crate::domain::{EventId, Platform, ReminderState, SpaceId, Subject, Target};

/// A type stored as text: `$to` gives the text, `$from` reads it back (None: not ours).
macro_rules! as_text {
    ($t:ty, $to:expr, $from:expr) => {
        impl<DB: Database> Type<DB> for $t
        where
            String: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as Type<DB>>::compatible(ty)
            }
        }
        impl<'q, DB: Database> Encode<'q, DB> for $t
        where
            String: Encode<'q, DB>,
        {
            fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
                let text: String = ($to)(self);
                <String as Encode<'q, DB>>::encode(text, buf)
            }
        }
        impl<'r, DB: Database> Decode<'r, DB> for $t
        where
            &'r str: Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&'r str as Decode<'r, DB>>::decode(value)?;
                ($from)(text).ok_or_else(|| format!("not a {}: {text:?}", stringify!($t)).into())
            }
        }
    };
}

as_text!(
    SpaceId,
    |s: &SpaceId| s.as_str().to_string(),
    SpaceId::parse
);
as_text!(
    Platform,
    |p: &Platform| p.as_str().to_string(),
    Platform::parse
);
as_text!(Target, Target::to_db, Target::parse);
as_text!(
    ReminderState,
    |r: &ReminderState| r.as_str().to_string(),
    ReminderState::parse
);

impl<DB: Database> Type<DB> for EventId
where
    i64: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <i64 as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <i64 as Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database> Encode<'q, DB> for EventId
where
    i64: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, DB>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for EventId
where
    i64: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(EventId(<i64 as Decode<'r, DB>>::decode(value)?))
    }
}
