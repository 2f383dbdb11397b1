//! How the runtime vocabulary (`crate::domain`) is stored in SQLite and PostgreSQL: each type as the text (or
//! number) its column has always held, so existing databases read unchanged. A stored value
//! this binary does not know is a decoding error, never a guess.

pub use crate::domain::{EventId, Platform, ReminderState, SpaceId, Subject, Target};

mod sqlite {
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::sqlite::{SqliteTypeInfo, SqliteValueRef};
    use sqlx::{Decode, Encode, Sqlite, Type};

    use crate::domain::*;

    /// A type stored as text: `$to` gives the text, `$from` reads it back (None: not ours).
    macro_rules! as_text {
        ($t:ty, $to:expr, $from:expr) => {
            impl Type<Sqlite> for $t {
                fn type_info() -> SqliteTypeInfo {
                    <String as Type<Sqlite>>::type_info()
                }
                fn compatible(ty: &SqliteTypeInfo) -> bool {
                    <String as Type<Sqlite>>::compatible(ty)
                }
            }
            impl<'q> Encode<'q, Sqlite> for $t {
                fn encode_by_ref(
                    &self,
                    buf: &mut <Sqlite as sqlx::Database>::ArgumentBuffer,
                ) -> Result<IsNull, BoxDynError> {
                    let text: String = ($to)(self);
                    <String as Encode<'q, Sqlite>>::encode(text, buf)
                }
            }
            impl<'r> Decode<'r, Sqlite> for $t {
                fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
                    let text = <&str as Decode<Sqlite>>::decode(value)?;
                    ($from)(text)
                        .ok_or_else(|| format!("not a {}: {text:?}", stringify!($t)).into())
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

    impl Type<Sqlite> for EventId {
        fn type_info() -> SqliteTypeInfo {
            <i64 as Type<Sqlite>>::type_info()
        }
        fn compatible(ty: &SqliteTypeInfo) -> bool {
            <i64 as Type<Sqlite>>::compatible(ty)
        }
    }
    impl<'q> Encode<'q, Sqlite> for EventId {
        fn encode_by_ref(
            &self,
            buf: &mut <Sqlite as sqlx::Database>::ArgumentBuffer,
        ) -> Result<IsNull, BoxDynError> {
            <i64 as Encode<'q, Sqlite>>::encode_by_ref(&self.0, buf)
        }
    }
    impl<'r> Decode<'r, Sqlite> for EventId {
        fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
            Ok(EventId(<i64 as Decode<Sqlite>>::decode(value)?))
        }
    }
}

/// The same encodings on PostgreSQL (TEXT and BIGINT columns).
mod postgres {
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
    use sqlx::{Decode, Encode, Postgres, Type};

    use crate::domain::*;

    macro_rules! as_text {
        ($t:ty, $to:expr, $from:expr) => {
            impl Type<Postgres> for $t {
                fn type_info() -> PgTypeInfo {
                    <String as Type<Postgres>>::type_info()
                }
                fn compatible(ty: &PgTypeInfo) -> bool {
                    <String as Type<Postgres>>::compatible(ty)
                }
            }
            impl Encode<'_, Postgres> for $t {
                fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                    let text: String = ($to)(self);
                    <String as Encode<Postgres>>::encode(text, buf)
                }
            }
            impl<'r> Decode<'r, Postgres> for $t {
                fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                    let text = <&str as Decode<Postgres>>::decode(value)?;
                    ($from)(text)
                        .ok_or_else(|| format!("not a {}: {text:?}", stringify!($t)).into())
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

    impl Type<Postgres> for EventId {
        fn type_info() -> PgTypeInfo {
            <i64 as Type<Postgres>>::type_info()
        }
        fn compatible(ty: &PgTypeInfo) -> bool {
            <i64 as Type<Postgres>>::compatible(ty)
        }
    }
    impl Encode<'_, Postgres> for EventId {
        fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
            <i64 as Encode<Postgres>>::encode_by_ref(&self.0, buf)
        }
    }
    impl<'r> Decode<'r, Postgres> for EventId {
        fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
            Ok(EventId(<i64 as Decode<Postgres>>::decode(value)?))
        }
    }
}
