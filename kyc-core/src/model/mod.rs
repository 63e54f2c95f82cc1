//! Domain values: newtypes with private fields, built with `parse` (untrusted input) or `new`
//! (infallible). Personal data (names, document numbers, dates of birth) has a redacting `Debug`
//! and errors never echo their input.

mod country;
mod date;
mod error;
mod ids;
mod image;
mod iso3166;
mod person;
mod score;

pub use country::CountryCode;
pub use date::{days_in_month, is_leap_year, BirthDate, Date, ExpiryDate, Timestamp};
pub use error::ValueError;
pub use ids::VerificationId;
pub use image::{Image, ImageType};
pub use person::{DocumentNumber, PersonName, Sex};
pub use score::{Similarity, Threshold};
