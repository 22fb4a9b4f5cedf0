//! `connector.json`: the manifest a host reads to draw the panel, and the
//! connector's only entity table. Parsed once, on first use.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::error::{ConnectorError, Result};
use crate::model::{Method, Pairs};

/// The manifest text, byte for byte as `describe()` returns it.
pub const MANIFEST_JSON: &str = include_str!("../connector.json");

/// The whole manifest.
#[derive(Debug, Deserialize)]
pub struct Manifest {
    /// Connector id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Version, equal to the crate's.
    pub version: String,
    /// The WIT package the component implements.
    pub wit: String,
    /// One-line description.
    pub description: String,
    /// The connection panel.
    pub panel: Panel,
    /// Where requests may go.
    pub hosts: Hosts,
    /// Every entity.
    pub entities: Vec<EntitySpec>,
}

/// The connection panel.
#[derive(Debug, Deserialize)]
pub struct Panel {
    /// Environments (`playground`, `production`).
    pub environments: Vec<Choice>,
    /// Regions (`eu`, `na`, `oc`).
    pub regions: Vec<Choice>,
    /// Auth kinds and their fields.
    pub auth_kinds: Vec<AuthKind>,
    /// Settings every API type has.
    pub common_settings: Vec<Setting>,
    /// API types.
    pub api_types: Vec<ApiType>,
}

/// One choice of a select field.
#[derive(Debug, Deserialize)]
pub struct Choice {
    /// Value sent in the config.
    pub id: String,
    /// What the user sees.
    pub label: String,
}

/// An auth kind and the fields it asks for.
#[derive(Debug, Deserialize)]
pub struct AuthKind {
    /// `api_key`, `basic`, `oauth2` or `token`.
    pub id: String,
    /// What the user sees.
    pub label: String,
    /// How a host builds the WIT `auth` value from the fields: the variant and
    /// each of its fields as a `{field}` template (e.g. an API key is
    /// `basic` with an empty username and the key as password).
    pub wit: serde_json::Value,
    /// Its fields.
    pub fields: Vec<Setting>,
}

/// Value type of a setting.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SettingType {
    /// Free text.
    String,
    /// A whole number.
    Integer,
    /// Space-separated words.
    StringList,
}

/// One field of the panel.
#[derive(Debug, Deserialize)]
pub struct Setting {
    /// Key in `settings`.
    pub key: String,
    /// Field label.
    pub label: String,
    /// Help text.
    pub help: String,
    /// Value type.
    #[serde(rename = "type")]
    pub kind: SettingType,
    /// Whether the field must be filled.
    pub required: bool,
    /// Whether the value is write-only.
    pub secret: bool,
    /// Value used when the field is left empty.
    #[serde(default)]
    pub default: Option<String>,
    /// Smallest allowed value of an integer setting.
    #[serde(default)]
    pub min: Option<u64>,
    /// Largest allowed value of an integer setting.
    #[serde(default)]
    pub max: Option<u64>,
    /// When to show (and accept) the field: the auth kinds it belongs to.
    #[serde(default)]
    pub show_when: Option<ShowWhen>,
}

/// The condition under which a setting is shown.
#[derive(Debug, Deserialize)]
pub struct ShowWhen {
    /// Auth kind ids.
    pub auth: Vec<String>,
}

/// An API type (Celigo's "API type"): its hosts, auth kinds, settings and test probe.
#[derive(Debug, Deserialize)]
pub struct ApiType {
    /// Id, e.g. `post-purchase`.
    pub id: String,
    /// What the user sees.
    pub label: String,
    /// What it covers.
    pub description: String,
    /// Host family in [`Hosts::families`].
    pub hosts: String,
    /// Allowed auth kinds.
    pub auth: Vec<String>,
    /// Its own settings.
    pub settings: Vec<Setting>,
    /// The cheapest authenticated read, used by `test()`.
    pub test: Probe,
}

/// A request that proves the credentials work.
#[derive(Debug, Deserialize)]
pub struct Probe {
    /// Method.
    pub method: MethodName,
    /// Path (no placeholders).
    pub path: String,
    /// Query.
    #[serde(default)]
    pub query: Pairs,
    /// Statuses that mean "authenticated".
    pub accept: Vec<u16>,
    /// What a success proves, for the user.
    pub checks: String,
}

/// Host families, and the allow-list of every host the connector may call.
#[derive(Debug, Deserialize)]
pub struct Hosts {
    /// Every host name the connector may call.
    pub allowed: Vec<String>,
    /// environment → OAuth 2.0 token URL template (`{subdomain}`).
    pub oauth_token: BTreeMap<String, String>,
    /// family → environment → region → host name.
    #[serde(flatten)]
    pub families: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
}

/// How a list is paged.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Pagination {
    /// One response is everything.
    None,
    /// `offset` + `size`, following the response's `pagination.next` link.
    Offset,
}

/// A method name as the manifest spells it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MethodName {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl MethodName {
    /// As an `http` method.
    pub fn to_method(self) -> Method {
        match self {
            Self::Get => Method::GET,
            Self::Post => Method::POST,
            Self::Put => Method::PUT,
            Self::Patch => Method::PATCH,
            Self::Delete => Method::DELETE,
        }
    }
}

/// One operation of an entity.
#[derive(Debug, Deserialize)]
pub struct OperationSpec {
    /// Method.
    pub method: MethodName,
    /// Path template, exactly as Klarna's API reference writes it.
    pub path: String,
}

/// An entity: one Klarna path template and its operations.
#[derive(Debug, Deserialize)]
pub struct EntitySpec {
    /// Id.
    pub name: String,
    /// Label.
    pub label: String,
    /// Description.
    pub description: String,
    /// API type id.
    pub api_type: String,
    /// At most one per method.
    pub operations: Vec<OperationSpec>,
    /// Where a read's records are: absent = the body is one record, `*` = the
    /// body is an array of records, otherwise the key of an array in the body.
    #[serde(default)]
    pub records: Option<String>,
    /// Paging style of the `get` operation.
    pub pagination: Pagination,
    /// Fields that identify a record.
    pub primary_key: Vec<String>,
    /// Where a create's id comes from, in order: `header:<Name>`, `location`,
    /// `body:<field>`. When absent: `location`, then the primary key in the body.
    #[serde(default)]
    pub created_id: Vec<String>,
}

impl EntitySpec {
    /// The operation with `method`, if the entity has one.
    pub fn operation(&self, method: &Method) -> Option<&OperationSpec> {
        self.operations.iter().find(|op| op.method.to_method() == *method)
    }

    /// Whether `subscribe` pages through results.
    pub fn paginated(&self) -> bool {
        self.pagination != Pagination::None
    }
}

impl Manifest {
    /// The parsed manifest (parsed once).
    pub fn get() -> Result<&'static Manifest> {
        static PARSED: OnceLock<std::result::Result<Manifest, String>> = OnceLock::new();
        PARSED
            .get_or_init(|| serde_json::from_str(MANIFEST_JSON).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| ConnectorError::InvalidConfig(format!("connector.json: {e}")))
    }

    /// The API type with `id`.
    pub fn api_type(&self, id: &str) -> Option<&ApiType> {
        self.panel.api_types.iter().find(|t| t.id == id)
    }

    /// The entity with `name`.
    pub fn entity(&self, name: &str) -> Option<&EntitySpec> {
        self.entities.iter().find(|e| e.name == name)
    }

    /// The auth kind with `id`.
    pub fn auth_kind(&self, id: &str) -> Option<&AuthKind> {
        self.panel.auth_kinds.iter().find(|k| k.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn manifest_parses_and_is_consistent() {
        let m = Manifest::get().expect("connector.json parses");
        assert_eq!(m.version, env!("CARGO_PKG_VERSION"), "manifest version = crate version");
        assert_eq!(m.wit, "ipaas:connector@0.1.0");
        let ids: Vec<_> = m.panel.api_types.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["purchase", "post-purchase", "settlements", "disputes", "shipping-assistant", "network"]);
        let mut names = BTreeSet::new();
        for e in &m.entities {
            assert!(names.insert(&e.name), "duplicate entity {}", e.name);
            assert!(m.api_type(&e.api_type).is_some(), "{}: unknown api type", e.name);
            let methods: BTreeSet<_> = e.operations.iter().map(|o| format!("{:?}", o.method)).collect();
            assert_eq!(methods.len(), e.operations.len(), "{}: two operations with one method", e.name);
            let paths: BTreeSet<_> = e.operations.iter().map(|o| o.path.as_str()).collect();
            assert_eq!(paths.len(), 1, "{}: one path template per entity", e.name);
            assert!(!e.primary_key.is_empty(), "{}: primary key", e.name);
            if e.paginated() {
                assert!(e.records.is_some(), "{}: paginated needs records", e.name);
            }
        }
        for t in &m.panel.api_types {
            for kind in &t.auth {
                assert!(m.auth_kind(kind).is_some(), "{}: unknown auth kind {kind}", t.id);
            }
            let family = m.hosts.families.get(&t.hosts).expect("host family");
            for env in &m.panel.environments {
                for region in &m.panel.regions {
                    let host = &family[&env.id][&region.id];
                    assert!(m.hosts.allowed.contains(host), "{host} not in allow-list");
                }
            }
        }
    }
}
