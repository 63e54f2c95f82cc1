//! `HttpSanctionsScreener`: a third-party screening API (ComplyAdvantage-style) behind the
//! [`SanctionsScreener`] port.
//!
//! Request: `POST {base_url}/searches` with `Authorization: Token {api key}` and
//! `{"search_term", "fuzziness", "filters": {"types": ["sanction"], "birth_year"?}, "limit"}`.
//! Response: `{"content": {"data": {"hits": [{"doc": {"id", "name", "entity_type", "aka":
//! [{"name"}], "fields": [{"name", "value"}], "sources", "last_updated_utc"}, "match_types",
//! "score"}]}}}`.
//!
//! The hits are mapped to the same match model as the built-in engine: each hit becomes an
//! entity (names, dates of birth and nationalities from its fields) and is re-scored by the
//! built-in matcher, so scores, thresholds and explanations mean the same whichever provider
//! answered. Each hit's `listVersion` is the hash of its id and last-update time, so a
//! reviewer's "not a match" decision lapses when the provider updates the record.

use std::fmt;
use std::time::Duration;

use kyc_core::sanctions::{
    country_from_text, BirthDateFact, Entity, ListKind, LoadedList, NameKind, SanctionsIndex,
    SanctionsScreener, Schema, ScreenOptions, ScreeningError, ScreeningQuery, ScreeningResult,
};
use serde::{Deserialize, Serialize};

/// The largest response accepted.
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// An API key. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key taken from configuration (Secrets Manager, environment, file).
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Configuration of the HTTP provider.
#[derive(Clone, Debug)]
pub struct HttpProviderConfig {
    /// Base URL of the API (`https://api.example.com`); `/searches` is appended.
    pub base_url: String,
    /// The API key.
    pub api_key: ApiKey,
    /// Time allowed for the whole request.
    pub timeout: Duration,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// The provider's fuzziness (0–1) sent with each search.
    pub fuzziness: f32,
}

impl HttpProviderConfig {
    /// Configuration from the environment: `KYC_SCREENING_API_URL` and `KYC_SCREENING_API_KEY`
    /// (in AWS the key comes from Secrets Manager into the environment). `None` when either is
    /// missing.
    pub fn from_env() -> Option<Self> {
        let base_url = std::env::var("KYC_SCREENING_API_URL").ok()?;
        let key = std::env::var("KYC_SCREENING_API_KEY").ok()?;
        Some(Self::new(base_url, ApiKey::new(key)))
    }

    /// Configuration with default timeouts (10 s overall, 3 s to connect) and fuzziness 0.6.
    pub fn new(base_url: impl Into<String>, api_key: ApiKey) -> Self {
        Self {
            base_url: base_url.into(),
            api_key,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            fuzziness: 0.6,
        }
    }
}

/// The third-party screening API adapter.
#[derive(Clone, Debug)]
pub struct HttpSanctionsScreener {
    client: reqwest::Client,
    config: HttpProviderConfig,
}

impl HttpSanctionsScreener {
    /// Builds the client (rustls, timeouts from the configuration).
    pub fn new(config: HttpProviderConfig) -> Result<Self, ScreeningError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("kyc-kit/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| ScreeningError::Unavailable)?;
        Ok(Self { client, config })
    }

    async fn search(
        &self,
        query: &ScreeningQuery,
        opts: &ScreenOptions,
    ) -> Result<ScreeningResult, ScreeningError> {
        let url = format!("{}/searches", self.config.base_url.trim_end_matches('/'));
        let body = SearchRequest {
            search_term: &query.name,
            fuzziness: self.config.fuzziness,
            filters: Filters {
                types: &["sanction"],
                birth_year: query.birth_date.map(|d| d.year_span().0),
            },
            limit: opts.max_results.clamp(1, 100),
        };
        let response = self
            .client
            .post(url)
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Token {}", self.config.api_key.0),
            )
            .json(&body)
            .send()
            .await
            .map_err(transport_error)?;
        match response.status().as_u16() {
            200..=299 => {}
            401 | 403 => return Err(ScreeningError::Unauthorized),
            400 | 404 | 413 | 422 => return Err(ScreeningError::Rejected),
            _ => return Err(ScreeningError::Unavailable),
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
        {
            return Err(ScreeningError::InvalidResponse);
        }
        let bytes = response.bytes().await.map_err(transport_error)?;
        if bytes.len() > MAX_RESPONSE_BYTES {
            return Err(ScreeningError::InvalidResponse);
        }
        let parsed: SearchResponse =
            serde_json::from_slice(&bytes).map_err(|_| ScreeningError::InvalidResponse)?;
        Ok(rescore(query, opts, parsed.content.data.hits))
    }
}

fn transport_error(e: reqwest::Error) -> ScreeningError {
    if e.is_timeout() {
        ScreeningError::TimedOut
    } else if e.is_decode() {
        ScreeningError::InvalidResponse
    } else {
        ScreeningError::Unavailable
    }
}

impl SanctionsScreener for HttpSanctionsScreener {
    fn screen(
        &self,
        query: &ScreeningQuery,
        opts: &ScreenOptions,
    ) -> impl std::future::Future<Output = Result<ScreeningResult, ScreeningError>> + Send {
        self.search(query, opts)
    }
}

/// Maps provider hits to entities and scores them with the built-in matcher.
fn rescore(query: &ScreeningQuery, opts: &ScreenOptions, hits: Vec<Hit>) -> ScreeningResult {
    let lists: Vec<LoadedList> = hits
        .into_iter()
        .filter_map(|h| {
            let doc = h.doc;
            let mut e = Entity::new(
                doc.id.clone(),
                ListKind::Provider,
                match doc.entity_type.as_deref() {
                    Some("person") => Schema::Person,
                    Some("vessel") => Schema::Vessel,
                    Some("aircraft") => Schema::Aircraft,
                    _ => Schema::Organisation,
                },
            );
            e.add_name(&doc.name, NameKind::Primary);
            for a in &doc.aka {
                e.add_name(&a.name, NameKind::Alias);
            }
            for f in &doc.fields {
                match f.name.to_ascii_lowercase().as_str() {
                    "date of birth" => {
                        if let Some(d) = BirthDateFact::parse(&f.value) {
                            e.add_birth_date(d);
                        }
                    }
                    "nationality" | "citizenship" => {
                        if let Some(c) = country_from_text(&f.value) {
                            e.add_nationality(c);
                        }
                    }
                    _ => {}
                }
            }
            e.programs = doc.sources.clone();
            if e.names.is_empty() || doc.id.is_empty() {
                return None;
            }
            let updated = doc.last_updated_utc.unwrap_or_default();
            Some(LoadedList::new(
                ListKind::Provider,
                vec![e],
                0,
                &[doc.id.as_bytes(), updated.as_bytes()],
            ))
        })
        .collect();
    SanctionsIndex::build(lists).screen(query, opts)
}

#[derive(Serialize)]
struct SearchRequest<'a> {
    search_term: &'a str,
    fuzziness: f32,
    filters: Filters<'a>,
    limit: usize,
}

#[derive(Serialize)]
struct Filters<'a> {
    types: &'a [&'a str],
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_year: Option<u16>,
}

#[derive(Deserialize)]
struct SearchResponse {
    content: Content,
}

#[derive(Deserialize)]
struct Content {
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    hits: Vec<Hit>,
}

#[derive(Deserialize)]
struct Hit {
    doc: Doc,
}

#[derive(Deserialize)]
struct Doc {
    #[serde(deserialize_with = "id_string")]
    id: String,
    name: String,
    #[serde(default)]
    entity_type: Option<String>,
    #[serde(default)]
    aka: Vec<Aka>,
    #[serde(default)]
    fields: Vec<DocField>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    last_updated_utc: Option<String>,
}

#[derive(Deserialize)]
struct Aka {
    name: String,
}

#[derive(Deserialize)]
struct DocField {
    name: String,
    #[serde(default)]
    value: String,
}

/// Provider ids may be strings or numbers.
fn id_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom(
            "id is neither a string nor a number",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_key_never_shows_in_debug_output() {
        let c = HttpProviderConfig::new("https://x", ApiKey::new("sk-secret"));
        assert!(!format!("{c:?}").contains("sk-secret"));
    }
}
