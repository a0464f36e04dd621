//! The stored forms as sqlx column types, for every engine whose text or
//! integer columns sqlx can read: decoding an unknown value fails with a
//! column-decode error that names it, instead of falling back to a default.

use crate::permissions::Level;
use crate::{GrantType, Side};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

/// A text column holding one of the enum's `as_str` forms.
macro_rules! stored_as_text {
    ($ty:ty) => {
        impl<DB: Database> Type<DB> for $ty
        where
            str: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $ty
        where
            &'r str: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(<&str as Decode<'r, DB>>::decode(value)?.parse::<$ty>()?)
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $ty
        where
            &'q str: Encode<'q, DB>,
        {
            fn encode_by_ref(&self, buf: &mut <DB as Database>::ArgumentBuffer<'q>) -> Result<IsNull, BoxDynError> {
                <&str as Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }
    };
}

stored_as_text!(Side);
stored_as_text!(GrantType);

/// `roles.app_*`: 0, 1 or 2.
impl<DB: Database> Type<DB> for Level
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

impl<'r, DB: Database> Decode<'r, DB> for Level
where
    i64: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Level::from_stored(<i64 as Decode<'r, DB>>::decode(value)?)?)
    }
}

impl<'q, DB: Database> Encode<'q, DB> for Level
where
    i64: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut <DB as Database>::ArgumentBuffer<'q>) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, DB>>::encode(self.to_db(), buf)
    }
}
