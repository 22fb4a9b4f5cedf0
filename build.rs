//! Turns `connector.json` into Rust statics (`$OUT_DIR/manifest.rs`), so the
//! component carries the entity table as data, with no JSON parser run at
//! start-up. The manifest is read through the serde types of
//! `build/format.rs`: an unknown key, a missing one or a wrong type fails the
//! build with serde's message, which names the key and its line.

// Some fields are there for hosts only (`$schema`, the auth kinds' WIT
// templates): the build parses them, so they are checked, but does not use them.
#[allow(dead_code)]
#[path = "build/format.rs"]
mod format;

use std::fmt::Debug;
use std::{env, fs, path::Path};

use format::{ApiType, Callback, Entity, EntityCall, Manifest, Setting, SettingType, Upload, Verify};

fn main() {
    println!("cargo:rerun-if-changed=connector.json");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/format.rs");
    let text =
        fs::read_to_string("connector.json").unwrap_or_else(|e| fail(&format!("cannot read connector.json: {e}")));
    let manifest: Manifest = serde_json::from_str(&text).unwrap_or_else(|e| fail(&format!("connector.json: {e}")));
    check(&manifest);
    let out_dir = env::var("OUT_DIR").unwrap_or_else(|_| fail("OUT_DIR is not set"));
    let write = |name: &str, contents: &[u8]| {
        let out = Path::new(&out_dir).join(name);
        fs::write(&out, contents).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", out.display())));
    };
    let minified = minify(&text);
    // The reference LZ4 library at its highest level packs about a fifth
    // smaller than lz4_flex's fast compressor; lz4_flex, the decoder the
    // component carries, must unpack it.
    let packed =
        lz4::block::compress(minified.as_bytes(), Some(lz4::block::CompressionMode::HIGHCOMPRESSION(12)), false)
            .unwrap_or_else(|e| fail(&format!("cannot pack the manifest: {e}")));
    if lz4_flex::block::decompress(&packed, minified.len()).ok().as_deref() != Some(minified.as_bytes()) {
        fail("the packed manifest does not unpack to itself");
    }
    write("manifest.lz4", &packed);
    let code = manifest_code(&manifest);
    let strings = STRINGS.with(|t| std::mem::take(&mut *t.borrow_mut()));
    write("strings.text", strings.as_bytes());
    let lengths =
        format!("/// The length of the minified manifest.\nconst MANIFEST_LEN: usize = {};\n\n", minified.len());
    write("manifest.rs", (lengths + &code).as_bytes());
}

thread_local! {
    /// The text every string of the statics is a slice of, each string once.
    static STRINGS: std::cell::RefCell<String> = std::cell::RefCell::default();
}

/// The text `describe()` returns: connector.json's JSON value written
/// compactly by serde_json, its keys in the file's order (`preserve_order`).
fn minify(json: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| fail(&format!("connector.json: {e}")));
    value.to_string()
}

/// A string of the statics as a slice of one text (`text(at, len)`, a
/// `const fn`): its first occurrence there, or appended. The component then
/// carries each string once, and nothing is unpacked or parsed when an
/// instance starts.
fn literal(string: &str) -> String {
    STRINGS.with(|t| {
        let mut text = t.borrow_mut();
        let at = match text.find(string) {
            Some(at) => at,
            None => {
                text.push_str(string);
                text.len() - string.len()
            }
        };
        format!("text({at}, {})", string.len())
    })
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

/// What the types cannot say: integer common settings need a whole-number
/// default (the connector falls back to it), an upload needs a positive
/// limit and a content type, a probe accepts only HTTP statuses.
fn check(m: &Manifest) {
    for (i, s) in m.panel.common_settings.iter().enumerate() {
        let whole = s.default.as_deref().is_some_and(|d| d.parse::<u64>().is_ok());
        if matches!(s.kind, SettingType::Integer) && !whole {
            fail(&format!("connector.json: panel.common_settings[{i}] ({}) needs a whole-number default", s.key));
        }
    }
    for t in &m.panel.api_types {
        if t.test.as_ref().is_some_and(|probe| probe.accept.iter().any(|s| !(100..600).contains(s))) {
            fail(&format!("connector.json: api type {}: test.accept must hold HTTP statuses", t.id));
        }
        // `shipping_key` and `basic` both arrive as a WIT Basic pair: the API type tells them apart.
        if t.auth.iter().any(|a| a == "shipping_key") && t.auth.iter().any(|a| a == "basic" || a == "api_key") {
            fail(&format!("connector.json: api type {}: shipping_key cannot be offered with basic or api_key", t.id));
        }
        let has_entities = m.entities.iter().any(|e| e.api_type == t.id);
        if t.test.is_none() && (has_entities || !m.callbacks.iter().any(|c| c.api_type == t.id)) {
            fail(&format!(
                "connector.json: api type {}: only an API type with callbacks and no entities goes without test",
                t.id
            ));
        }
    }
    for e in &m.entities {
        let max_page = match &e.pagination {
            Some(
                format::Pagination::Offset { max_page_size, .. } | format::Pagination::Cursor { max_page_size, .. },
            ) => Some(*max_page_size),
            None => None,
        };
        if max_page == Some(0) || (max_page.is_some() && e.records.is_none()) {
            fail(&format!("connector.json: entity {}: paging needs max_page_size > 0 and records", e.name));
        }
        if let Some(upload) = &e.upload {
            if upload.max_bytes == 0 || upload.types.is_empty() {
                fail(&format!("connector.json: entity {}: upload needs max_bytes > 0 and a content type", e.name));
            }
        }
        check_retry(e);
        check_incremental(m, e);
    }
    for (i, c) in m.callbacks.iter().enumerate() {
        check_callback(m, c);
        if m.callbacks[..i].iter().any(|o| o.kind == c.kind) {
            fail(&format!("connector.json: callback {}: kind given twice", c.kind));
        }
        if let Some(o) =
            m.callbacks[..i].iter().find(|o| o.api_type == c.api_type && routes_overlap(&o.route, &c.route))
        {
            fail(&format!(
                "connector.json: callback {}: route {} can match the same path as {}'s",
                c.kind, c.route, o.kind
            ));
        }
    }
}

/// Every write says how a resend behaves, `key` and `natural` with their
/// source, `none` with how to find out what happened; reads say nothing
/// (they are `natural`).
fn check_retry(e: &Entity) {
    for op in &e.operations {
        let at = format!("connector.json: entity {}: {:?} {}", e.name, op.method, op.path);
        let read = matches!(op.method, format::MethodName::Get);
        let filled = |text: &Option<String>| text.as_deref().is_some_and(|t| !t.trim().is_empty());
        match &op.retry {
            None if read => {}
            Some(_) if read => fail(&format!("{at}: a read is natural; it takes no retry")),
            None => {
                fail(&format!("{at}: a write needs retry (key, natural or none; none when the sources are silent)"))
            }
            Some(retry) => match retry.safety {
                format::RetrySafety::Key | format::RetrySafety::Natural if !filled(&retry.source) => {
                    fail(&format!("{at}: retry {:?} needs its source", retry.safety))
                }
                format::RetrySafety::None if !filled(&retry.check) => {
                    fail(&format!("{at}: retry none needs a check (how to find out whether it happened)"))
                }
                _ => {}
            },
        }
    }
}

/// An incremental entity reads with GET and its window's start parameter; a
/// child entity's parent exists on the same API type and is incremental.
fn check_incremental(m: &Manifest, e: &Entity) {
    let at = format!("connector.json: entity {}", e.name);
    let reads = e.operations.iter().any(|op| matches!(op.method, format::MethodName::Get));
    if let Some(incremental) = &e.incremental {
        if !reads || e.records.is_none() || incremental.from.is_empty() || incremental.field.is_empty() {
            fail(&format!("{at}: incremental needs a paged read with records, a field and a from parameter"));
        }
        if incremental.lookback_days > 366 || e.parent.is_some() {
            fail(&format!("{at}: incremental needs lookback_days of at most 366, and no parent"));
        }
    }
    if let Some(parent) = &e.parent {
        let found = m.entities.iter().find(|p| p.name == parent.entity);
        let ok = found.is_some_and(|p| p.api_type == e.api_type && p.incremental.is_some() && p.parent.is_none());
        if !ok || !reads || e.records.is_none() || e.pagination.is_none() {
            fail(&format!(
                "{at}: parent {:?} must be an incremental entity of the same API type, and the child a paged read",
                parent.entity
            ));
        }
    }
}

/// A callback's references must resolve: its settings exist on its API type
/// with the right type, its entities exist on the same hosts, its templates
/// name known sources, and it either replies at once or takes answers.
fn check_callback(m: &Manifest, c: &Callback) {
    let at = format!("connector.json: callback {}", c.kind);
    let Some(api) = m.panel.api_types.iter().find(|t| t.id == c.api_type) else {
        fail(&format!("{at}: api_type {:?} is not an API type", c.api_type))
    };
    let setting = |key: &str, kind: SettingType, secret: bool| {
        let found = api.settings.iter().find(|s| s.key == key);
        if !found.is_some_and(|s| s.kind == kind && s.secret == secret) {
            fail(&format!("{at}: needs a {kind:?} setting {key:?} (secret: {secret}) on API type {}", api.id));
        }
    };
    let offers = |kind: &str| api.auth.iter().any(|a| a == kind);
    match &c.verify {
        Verify::HmacSha256 { keys_setting, .. } => setting(keys_setting, SettingType::KeyValueList, true),
        Verify::UrlSecret { setting: key, .. } => setting(key, SettingType::String, true),
        Verify::NonceDigest { token_lifetime_s, identifier_field, nonce_field, digest_field, token_field } => {
            if !offers("shipping_key") || *token_lifetime_s == 0 || c.event.is_some() || token_field.is_empty() {
                fail(&format!("{at}: nonce_digest needs the shipping_key auth kind, a token lifetime and no event"));
            }
            [identifier_field, nonce_field, digest_field].iter().for_each(|f| check_source(&at, &format!("body.{f}")));
        }
        Verify::BearerToken {} => {
            let issuer =
                m.callbacks.iter().any(|o| o.api_type == c.api_type && matches!(o.verify, Verify::NonceDigest { .. }));
            if !(offers("token") || (offers("shipping_key") && issuer)) {
                fail(&format!(
                    "{at}: bearer_token needs the token auth kind, or shipping_key and a nonce_digest callback"
                ));
            }
        }
    }
    let params = route_params(&at, &c.route);
    if !c.register_url.starts_with(&c.route) {
        fail(&format!("{at}: register_url must start with the route"));
    }
    if c.reply.is_some() != c.answers.is_empty() {
        fail(&format!("{at}: give either reply or answers"));
    }
    if c.event.is_none() && !matches!(c.verify, Verify::NonceDigest { .. }) {
        fail(&format!("{at}: every callback but a nonce_digest one has an event"));
    }
    let answers = |form: fn(&format::AnswerForm) -> bool| c.answers.iter().any(form);
    if !c.answer_checks.is_empty() && !answers(|a| matches!(a, format::AnswerForm::Order)) {
        fail(&format!("{at}: answer_checks apply to the order answer only"));
    }
    if c.answer_status.is_some_and(|s| !(200..300).contains(&s)) {
        fail(&format!("{at}: answer_status must be a 2xx status"));
    }
    let reservation = answers(|a| matches!(a, format::AnswerForm::Reservation));
    match &c.location {
        Some(path) if reservation => {
            setting("public_url", SettingType::HttpsUrl, false);
            for field in template_sources(&at, path) {
                setting(field, SettingType::String, false);
            }
        }
        None if !reservation => {}
        _ => fail(&format!("{at}: a reservation answer needs a location, and a location a reservation answer")),
    }
    if c.media_type.as_deref().is_some_and(|t| !t.starts_with("application/") || !t.ends_with("+json")) {
        fail(&format!("{at}: media_type must be an application/…+json type"));
    }
    let known = |name: &str| {
        if !m.entities.iter().any(|e| e.name == name) {
            fail(&format!("{at}: entity {name:?} does not exist"));
        }
    };
    // Entities called while receiving go to the connection's own hosts.
    let entity = |name: &str| {
        let found = m.entities.iter().find(|e| e.name == name);
        let hosts = found.and_then(|e| m.panel.api_types.iter().find(|t| t.id == e.api_type)).map(|t| &t.hosts);
        if hosts != Some(&api.hosts) {
            fail(&format!("{at}: entity {name:?} must exist and use the {} hosts", api.hosts));
        }
    };
    let call = |call: &EntityCall| {
        entity(&call.entity);
        for source in call.params.values() {
            check_source(&at, source);
        }
    };
    if let Some(read) = &c.read_back {
        call(read);
    }
    if let Some(ack) = &c.acknowledge {
        call(&EntityCall { entity: ack.entity.clone(), params: ack.params.clone() });
        setting(&ack.setting, SettingType::Boolean, false);
    }
    let Some(event) = &c.event else { return };
    event.entity.iter().for_each(|e| known(e));
    event.entity_by_kind.iter().for_each(|(_, e)| known(e));
    for template in [&event.kind, &event.id] {
        for source in template_sources(&at, template) {
            for alternative in source.split('|') {
                match alternative.strip_prefix("path.") {
                    Some(param) if !params.contains(&param) => fail(&format!("{at}: {param:?} is not in the route")),
                    Some(_) => {}
                    None => check_source(&at, alternative),
                }
            }
        }
    }
    let record = event.record.as_str();
    let ok = record == "body"
        || record.starts_with("body.")
        || (record == "read_back" && c.read_back.is_some())
        || (record == "path" && !params.is_empty())
        || (record == "body+path" && !params.is_empty() && matches!(c.body, format::CallbackBody::Json));
    if !ok {
        fail(&format!(
            "{at}: event.record must be body, body.<path>, read_back (with read_back set), path or body+path (with route parameters)"
        ));
    }
}

/// Whether one path can match both routes: as many segments, each pair equal or one a `{name}`.
fn routes_overlap(a: &str, b: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('/').collect(), b.split('/').collect());
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x == y || x.starts_with('{') || y.starts_with('{'))
}

/// The `{name}` segments of a route, which must start with `/` and whose
/// other segments are plain (no braces, not empty).
fn route_params<'r>(at: &str, route: &'r str) -> Vec<&'r str> {
    let Some(rest) = route.strip_prefix('/') else { fail(&format!("{at}: route must start with '/'")) };
    let mut params = Vec::new();
    for segment in rest.split('/') {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) if !name.is_empty() && !name.contains(['{', '}']) && !params.contains(&name) => {
                params.push(name)
            }
            None if !segment.is_empty() && !segment.contains(['{', '}']) => {}
            _ => fail(&format!("{at}: route segment {segment:?} must be a plain name or one distinct {{name}}")),
        }
    }
    params
}

/// The `{...}` placeholders of a template.
fn template_sources<'t>(at: &str, template: &'t str) -> Vec<&'t str> {
    let mut sources = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { fail(&format!("{at}: unclosed {{ in {template:?}")) };
        sources.push(&rest[open + 1..open + close]);
        rest = &rest[open + close + 1..];
    }
    sources
}

/// A source is `query.<param>`, `body.<path>` or `digest` (`path.<param>` is checked against the route).
fn check_source(at: &str, source: &str) {
    let ok = source == "digest"
        || source.strip_prefix("query.").is_some_and(|p| !p.is_empty())
        || source.strip_prefix("body.").is_some_and(|p| !p.is_empty() && !p.split('.').any(str::is_empty));
    if !ok {
        fail(&format!("{at}: {source:?} is not a source (query.<param>, body.<path> or digest)"));
    }
}

/// The `model::Method` variant of a manifest method (`Get`, `Post`, ...).
fn method_const(method: format::MethodName) -> String {
    format!("{method:?}")
}

/// A Rust variant name for a manifest id: `post-purchase` → `PostPurchase`.
fn variant(id: &str) -> String {
    id.split(['-', '_'])
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// An enum of the manifest's ids (`AuthKindId`, `ApiTypeId`), with `ALL` and `as_str`.
fn id_enum(name: &str, what: &str, ids: &[&str]) -> String {
    let variants: Vec<String> = ids.iter().map(|id| format!("    /// `{id}`.\n    {},", variant(id))).collect();
    let all: Vec<String> = ids.iter().map(|id| format!("Self::{}", variant(id))).collect();
    let arms: Vec<String> = ids.iter().map(|id| format!("            Self::{} => {id:?},", variant(id))).collect();
    format!(
        "/// {what}, as connector.json names them.\n#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\npub enum {name} {{\n{}\n}}\n\nimpl {name} {{\n    /// Every one, in the manifest's order.\n    pub const ALL: [Self; {}] = [{}];\n\n    /// The id as connector.json spells it.\n    pub const fn as_str(self) -> &'static str {{\n        match self {{\n{}\n        }}\n    }}\n}}\n\n",
        variants.join("\n"),
        ids.len(),
        all.join(", "),
        arms.join("\n"),
    )
}

/// The enum variant of a referenced id, or a build failure naming it.
fn id_ref(name: &str, known: &[&str], id: &str, at: &str) -> String {
    if !known.contains(&id) {
        let what = if name == "ApiTypeId" { "API types" } else { "auth kinds" };
        fail(&format!(
            "connector.json: {at} names {id:?}, which is not one of the panel's {what} ({})",
            known.join(", ")
        ));
    }
    format!("{name}::{}", variant(id))
}

/// `Some(value)` or `None`.
fn opt<T: Debug>(value: &Option<T>) -> String {
    value.as_ref().map_or("None".to_string(), |v| format!("Some({v:?})"))
}

/// `Some(literal(text))` or `None`.
fn opt_str(value: &Option<String>) -> String {
    value.as_deref().map_or("None".to_string(), |v| format!("Some({})", literal(v)))
}

/// A slice of [`literal`]s.
fn strings(items: &[String]) -> String {
    format!("&[{}]", items.iter().map(|s| literal(s)).collect::<Vec<_>>().join(", "))
}

/// The ids of the auth kinds and the API types, which the rest refers to.
struct Ids<'m> {
    auth: Vec<&'m str>,
    api: Vec<&'m str>,
}

impl Ids<'_> {
    /// A slice of `AuthKindId`s.
    fn auth_kinds(&self, ids: &[String], at: &str) -> String {
        let items: Vec<String> = ids.iter().map(|id| id_ref("AuthKindId", &self.auth, id, at)).collect();
        format!("&[{}]", items.join(", "))
    }
}

fn setting(s: &Setting, ids: &Ids) -> String {
    let show_when = match &s.show_when {
        None => "None".to_string(),
        Some(when) => format!(
            "Some(ShowWhen {{ auth: {} }})",
            ids.auth_kinds(&when.auth, &format!("setting {}: show_when.auth", s.key))
        ),
    };
    format!(
        "Setting {{ key: {}, kind: SettingType::{:?}, required: {}, secret: {}, default: {}, min: {}, max: {}, show_when: {show_when} }}",
        literal(&s.key),
        s.kind,
        s.required,
        s.secret,
        opt_str(&s.default),
        opt(&s.min),
        opt(&s.max),
    )
}

fn settings(items: &[Setting], ids: &Ids) -> String {
    format!("&[{}]", items.iter().map(|s| setting(s, ids)).collect::<Vec<_>>().join(",\n"))
}

fn api_type(t: &ApiType, ids: &Ids) -> String {
    let test = t.test.as_ref().map_or("None".to_string(), |probe| {
        let query: Vec<String> = probe.query.iter().map(|(k, v)| format!("({}, {})", literal(k), literal(v))).collect();
        format!(
            "Some(Probe {{ method: Method::{}, path: {}, query: &[{}], accept: &{:?}, checks: {} }})",
            method_const(probe.method),
            literal(&probe.path),
            query.join(", "),
            probe.accept,
            literal(&probe.checks),
        )
    });
    format!(
        "ApiType {{ id: {}, label: {}, hosts: {}, auth: {}, settings: {}, test: {test} }}",
        id_ref("ApiTypeId", &ids.api, &t.id, "panel.api_types"),
        literal(&t.label),
        literal(&t.hosts),
        ids.auth_kinds(&t.auth, &format!("api type {}: auth", t.id)),
        settings(&t.settings, ids),
    )
}

fn upload(upload: &Option<Upload>) -> String {
    let Some(spec) = upload else { return "None".into() };
    let types: Vec<String> =
        spec.types.iter().map(|(t, extensions)| format!("({}, {})", literal(t), strings(extensions))).collect();
    format!(
        "Some(&UploadSpec {{ part: {}, max_bytes: {}, types: &[{}] }})",
        literal(&spec.part),
        spec.max_bytes,
        types.join(", ")
    )
}

fn entity(e: &Entity, ids: &Ids) -> String {
    let operations: Vec<String> = e
        .operations
        .iter()
        .map(|op| {
            let (safety, check) = match &op.retry {
                Some(retry) => (format!("{:?}", retry.safety), opt_str(&retry.check)),
                None => ("Natural".to_string(), "None".to_string()),
            };
            format!(
                "OperationSpec {{ method: Method::{}, path: {}, retry: RetrySafety::{safety}, check: {check} }}",
                method_const(op.method),
                literal(&op.path)
            )
        })
        .collect();
    let incremental = e.incremental.as_ref().map_or("None".to_string(), |i| {
        format!(
            "Some(&IncrementalSpec {{ field: {}, from: {}, to: {}, format: DateFormat::{:?}, order: RecordOrder::{:?}, lookback_days: {} }})",
            literal(&i.field),
            literal(&i.from),
            opt_str(&i.to),
            i.format,
            i.order,
            i.lookback_days
        )
    });
    let parent = e.parent.as_ref().map_or("None".to_string(), |p| {
        format!(
            "Some(&ParentSpec {{ entity: {}, field: {}, param: {} }})",
            literal(&p.entity),
            literal(&p.field),
            literal(&p.param)
        )
    });
    let checks: Vec<String> = e.checks.iter().map(|c| format!("Check::{c:?}")).collect();
    let pagination = match &e.pagination {
        None => "Pagination::None".to_string(),
        Some(format::Pagination::Offset { page_size_param, max_page_size, next_link }) => format!(
            "Pagination::Offset {{ page_size_param: {}, max_page_size: {max_page_size}, next_link: {} }}",
            literal(page_size_param),
            literal(next_link)
        ),
        Some(format::Pagination::Cursor { page_size_param, max_page_size, cursor_param, cursor_from }) => format!(
            "Pagination::Cursor {{ page_size_param: {}, max_page_size: {max_page_size}, cursor_param: {}, cursor_from: {} }}",
            literal(page_size_param),
            literal(cursor_param),
            literal(cursor_from)
        ),
    };
    format!(
        "EntitySpec {{ name: {}, api_type: {}, operations: &[{}], records: {}, pagination: {pagination}, primary_key: {}, created_id: {}, checks: &[{}], file_response: {}, header_params: {}, upload: {}, incremental: {incremental}, parent: {parent} }}",
        literal(&e.name),
        id_ref("ApiTypeId", &ids.api, &e.api_type, &format!("entity {}: api_type", e.name)),
        operations.join(", "),
        opt_str(&e.records),
        strings(&e.primary_key),
        strings(&e.created_id),
        checks.join(", "),
        matches!(e.response, Some(format::ResponseKind::File)),
        strings(&e.header_params),
        upload(&e.upload),
    )
}

fn entity_call(call: &EntityCall) -> String {
    let params: Vec<String> = call.params.iter().map(|(k, v)| format!("({}, {})", literal(k), literal(v))).collect();
    format!("EntityCall {{ entity: {}, params: &[{}] }}", literal(&call.entity), params.join(", "))
}

fn callback(c: &Callback, ids: &Ids) -> String {
    let verify = match &c.verify {
        Verify::HmacSha256 { signature_header, key_id_header, keys_setting } => format!(
            "Verify::HmacSha256 {{ signature_header: {}, key_id_header: {}, keys_setting: {} }}",
            literal(signature_header),
            literal(key_id_header),
            literal(keys_setting)
        ),
        Verify::UrlSecret { query_param, setting } => {
            format!("Verify::UrlSecret {{ query_param: {}, setting: {} }}", literal(query_param), literal(setting))
        }
        Verify::NonceDigest { identifier_field, nonce_field, digest_field, token_lifetime_s, token_field } => format!(
            "Verify::NonceDigest {{ identifier_field: {}, nonce_field: {}, digest_field: {}, token_lifetime_s: {token_lifetime_s}, token_field: {} }}",
            literal(identifier_field),
            literal(nonce_field),
            literal(digest_field),
            literal(token_field)
        ),
        Verify::BearerToken {} => "Verify::BearerToken".to_string(),
    };
    let event = c.event.as_ref().map_or("None".to_string(), |e| {
        let by_kind: Vec<String> =
            e.entity_by_kind.iter().map(|(p, e)| format!("({}, {})", literal(p), literal(e))).collect();
        format!(
            "Some(EventSpec {{ kind: {}, id: {}, entity: {}, entity_by_kind: &[{}], record: {} }})",
            literal(&e.kind),
            literal(&e.id),
            opt_str(&e.entity),
            by_kind.join(", "),
            literal(&e.record)
        )
    });
    let acknowledge = c.acknowledge.as_ref().map_or("None".to_string(), |a| {
        let call = EntityCall { entity: a.entity.clone(), params: a.params.clone() };
        format!("Some(({}, {}))", entity_call(&call), literal(&a.setting))
    });
    let answers: Vec<String> = c.answers.iter().map(|a| format!("AnswerForm::{a:?}")).collect();
    let checks: Vec<String> = c.answer_checks.iter().map(|a| format!("Check::{a:?}")).collect();
    format!(
        "CallbackSpec {{ kind: {}, api_type: {}, method: Method::{}, route: {}, verify: {verify}, json_body: {}, required: {}, media_type: {}, event: {event}, read_back: {}, acknowledge: {acknowledge}, reply: {}, answers: &[{}], answer_checks: &[{}], answer_status: {}, location: {} }}",
        literal(&c.kind),
        id_ref("ApiTypeId", &ids.api, &c.api_type, &format!("callback {}: api_type", c.kind)),
        method_const(c.method),
        literal(&c.route),
        matches!(c.body, format::CallbackBody::Json),
        strings(&c.required),
        opt_str(&c.media_type),
        c.read_back.as_ref().map_or("None".to_string(), |r| format!("Some({})", entity_call(r))),
        opt(&c.reply),
        answers.join(", "),
        checks.join(", "),
        opt(&c.answer_status),
        opt_str(&c.location),
    )
}

fn manifest_code(m: &Manifest) -> String {
    let choices = |items: &[format::Choice]| {
        let items: Vec<String> = items.iter().map(|c| format!("Choice {{ id: {} }}", literal(&c.id))).collect();
        format!("&[{}]", items.join(", "))
    };
    let ids = Ids {
        auth: m.panel.auth_kinds.iter().map(|k| k.id.as_str()).collect(),
        api: m.panel.api_types.iter().map(|t| t.id.as_str()).collect(),
    };
    let auth_kinds: Vec<String> = m
        .panel
        .auth_kinds
        .iter()
        .map(|k| {
            let id = id_ref("AuthKindId", &ids.auth, &k.id, "panel.auth_kinds");
            format!("AuthKind {{ id: {id}, fields: {} }}", settings(&k.fields, &ids))
        })
        .collect();
    let oauth: Vec<String> =
        m.hosts.oauth_token.iter().map(|(env, url)| format!("({}, {})", literal(env), literal(url))).collect();
    let families: Vec<String> = m
        .hosts
        .families
        .iter()
        .map(|(family, environments)| {
            let rows: Vec<String> = environments
                .iter()
                .flat_map(|(env, regions)| {
                    regions.iter().map(move |(region, host)| {
                        format!("({}, {}, {})", literal(env), literal(region), literal(host))
                    })
                })
                .collect();
            format!("HostFamily {{ name: {}, hosts: &[{}] }}", literal(family), rows.join(", "))
        })
        .collect();
    format!(
        "// Generated by build.rs from connector.json. Do not edit.\n\n{}{}/// The manifest, as Rust data.\npub static MANIFEST: Manifest = Manifest {{\n    version: {},\n    wit: {},\n    panel: Panel {{\n        environments: {},\n        regions: {},\n        auth_kinds: &[{}],\n        common_settings: {},\n        api_types: &[{}],\n    }},\n    hosts: Hosts {{ allowed: {}, oauth_token: &[{}], families: &[{}] }},\n    entities: &[\n{}\n    ],\n    callbacks: &[\n{}\n    ],\n}};\n",
        id_enum("AuthKindId", "The auth kinds of the panel", &ids.auth),
        id_enum("ApiTypeId", "The API types of the panel", &ids.api),
        literal(&m.version),
        literal(&m.wit),
        choices(&m.panel.environments),
        choices(&m.panel.regions),
        auth_kinds.join(",\n"),
        settings(&m.panel.common_settings, &ids),
        m.panel.api_types.iter().map(|t| api_type(t, &ids)).collect::<Vec<_>>().join(",\n"),
        strings(&m.hosts.allowed),
        oauth.join(", "),
        families.join(", "),
        m.entities.iter().map(|e| entity(e, &ids)).collect::<Vec<_>>().join(",\n"),
        m.callbacks.iter().map(|c| callback(c, &ids)).collect::<Vec<_>>().join(",\n"),
    )
}
