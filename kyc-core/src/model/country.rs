//! `CountryCode`: ISO 3166-1 alpha-2 and alpha-3 codes plus the ICAO 9303 special codes
//! (`D` for Germany, the British `GBD`/`GBN`/`GBO`/`GBP`/`GBS`, the UN's `UNO`/`UNA`/`UNK`,
//! stateless and refugee codes `XXA`/`XXB`/`XXC`/`XXX`, the specimen state `UTO`, …).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::iso3166::ISO3166;
use super::ValueError;

/// ICAO 9303 Part 3 codes that are not ISO 3166-1 alpha-3 codes, with what they stand for.
const ICAO_SPECIALS: &[(&str, &str)] = &[
    ("EUE", "European Union"),
    ("GBD", "British Overseas Territories Citizen"),
    ("GBN", "British National (Overseas)"),
    ("GBO", "British Overseas Citizen"),
    ("GBP", "British Protected Person"),
    ("GBS", "British Subject"),
    ("RKS", "Kosovo"),
    ("UNA", "United Nations specialized agency"),
    ("UNK", "Resident of Kosovo (UNMIK)"),
    ("UNO", "United Nations"),
    ("UTO", "Utopia (ICAO specimen)"),
    ("XBA", "African Development Bank"),
    ("XCC", "Caribbean Community"),
    ("XCE", "Council of Europe"),
    ("XCO", "Common Market for Eastern and Southern Africa"),
    ("XDC", "Southern African Development Community"),
    ("XEC", "Economic Community of West African States"),
    ("XES", "Organisation of Eastern Caribbean States"),
    ("XIM", "African Export-Import Bank"),
    ("XOM", "Sovereign Military Order of Malta"),
    ("XPO", "Interpol"),
    ("XXA", "Stateless person"),
    ("XXB", "Refugee (1951 Convention)"),
    ("XXC", "Refugee (other)"),
    ("XXX", "Unspecified nationality"),
];

/// A country or ICAO issuing-authority code, kept in its three-letter form.
///
/// Germany's MRZ code `D` (also `D<<`) is read as `DEU`; [`CountryCode::mrz_code`] gives `D`
/// back. Alpha-2 codes are accepted and converted.
///
/// ```
/// use kyc_core::model::CountryCode;
/// assert_eq!(CountryCode::parse("D<<").unwrap().alpha3(), "DEU");
/// assert_eq!(CountryCode::parse("de").unwrap().mrz_code(), "D");
/// assert_eq!(CountryCode::parse("GBR").unwrap().alpha2(), Some("GB"));
/// assert_eq!(CountryCode::parse("UTO").unwrap().alpha2(), None);
/// assert!(CountryCode::parse("ZZZ").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 3]);

impl CountryCode {
    /// Parses an alpha-2, alpha-3 or ICAO code, case-insensitive, with MRZ fillers trimmed.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "country code";
        const ALLOWED: &str = "ISO 3166-1 alpha-2 or alpha-3, or an ICAO 9303 code";
        let t = s.trim().trim_end_matches('<');
        if t.is_empty() {
            return Err(ValueError::Empty { what: WHAT });
        }
        if t.len() > 3 || !t.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(ValueError::Unknown {
                what: WHAT,
                allowed: ALLOWED,
            });
        }
        let up = t.to_ascii_uppercase();
        let a3 = match up.len() {
            1 if up == "D" => "DEU",
            2 => match ISO3166.binary_search_by(|(a2, _)| (*a2).cmp(up.as_str())) {
                Ok(i) => ISO3166[i].1,
                Err(_) => {
                    return Err(ValueError::Unknown {
                        what: WHAT,
                        allowed: ALLOWED,
                    })
                }
            },
            3 if ISO3166.iter().any(|(_, a3)| *a3 == up) => {
                return Ok(Self(to_arr(&up)));
            }
            3 if ICAO_SPECIALS.iter().any(|(c, _)| *c == up) => return Ok(Self(to_arr(&up))),
            _ => {
                return Err(ValueError::Unknown {
                    what: WHAT,
                    allowed: ALLOWED,
                })
            }
        };
        Ok(Self(to_arr(a3)))
    }

    /// The three-letter code (`DEU` for Germany).
    pub fn alpha3(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// The ISO 3166-1 alpha-2 code, when this is an ISO country.
    pub fn alpha2(&self) -> Option<&'static str> {
        let a3 = self.alpha3();
        ISO3166.iter().find(|(_, c)| *c == a3).map(|(a2, _)| *a2)
    }

    /// The code as written in an MRZ: `D` for Germany, the alpha-3 code otherwise.
    pub fn mrz_code(&self) -> &str {
        if &self.0 == b"DEU" {
            "D"
        } else {
            self.alpha3()
        }
    }

    /// Whether this is an ICAO special code rather than an ISO 3166-1 country.
    pub fn is_icao_special(&self) -> bool {
        self.alpha2().is_none()
    }
}

fn to_arr(s: &str) -> [u8; 3] {
    let b = s.as_bytes();
    [b[0], b[1], b[2]]
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.alpha3())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.alpha3())
    }
}

impl std::str::FromStr for CountryCode {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.alpha3())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_table_is_sorted_and_complete() {
        assert_eq!(ISO3166.len(), 249);
        assert!(ISO3166.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn every_iso_code_round_trips_between_alpha2_and_alpha3() {
        for (a2, a3) in ISO3166 {
            let c = CountryCode::parse(a2).unwrap();
            assert_eq!(c.alpha3(), *a3);
            assert_eq!(CountryCode::parse(a3).unwrap().alpha2(), Some(*a2));
        }
    }

    #[test]
    fn icao_specials_are_accepted() {
        for code in ["GBD", "UNO", "XXA", "UTO", "XOM", "RKS", "EUE"] {
            let c = CountryCode::parse(code).unwrap();
            assert!(c.is_icao_special(), "{code}");
            assert_eq!(c.mrz_code(), code);
        }
    }

    #[test]
    fn junk_is_refused_without_echo() {
        for s in ["", "<<<", "ABCD", "1A", "ZZ", "Ü", "D E"] {
            let e = CountryCode::parse(s).unwrap_err().to_string();
            assert!(!e.contains(s) || s.is_empty(), "{e}");
        }
    }
}
