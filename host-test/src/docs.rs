//! Markdown tables generated from connector.json for docs/catalog.md (a
//! test checks the file holds exactly these, so they cannot drift).

use std::fmt::Write as _;

use klarna_connector::manifest::{Manifest, Verify};
use serde_json::Value;

/// What `test()` checks on an API type that calls nothing at Klarna.
const LISTENER_TEST: &str =
    "nothing is called at Klarna: the public URL, and for shipping_key that a token issued now checks";

/// Marker lines around the generated part of docs/catalog.md.
pub const BEGIN: &str =
    "<!-- BEGIN GENERATED FROM connector.json (cargo run -p host-test -- tables docs/catalog.md) -->";
/// End marker.
pub const END: &str = "<!-- END GENERATED -->";

/// The coverage and panel tables, between the markers, from connector.json
/// read as a host reads `describe()`'s text.
pub fn tables() -> Result<String, String> {
    let m: Value = serde_json::from_str(crate::manifest_text::CONNECTOR_JSON).map_err(|e| e.to_string())?;
    let list = |value: &Value, key: &str| value.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    let text = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let mut out = format!(
        "{BEGIN}\n\n## Coverage (generated from connector.json)\n\nResend: how a write behaves when sent twice (`key`: Klarna honours `Klarna-Idempotency-Key`; `natural`: idempotent by itself; `none`: a resend may act twice, so the connector never resends it after an attempt that may have arrived).\n\n| API type | Entity | Method | Path | Paged | Resend |\n| --- | --- | --- | --- | --- | --- |\n"
    );
    for e in list(&m, "entities") {
        let paginated = e.get("pagination").is_some_and(|p| !p.is_null());
        for op in list(&e, "operations") {
            let method = text(&op, "method").to_ascii_uppercase();
            let paged = if paginated && method == "GET" { "yes" } else { "" };
            let resend = op.get("retry").map_or("–".to_string(), |r| text(r, "safety"));
            let _ = writeln!(
                out,
                "| {} | `{}` | {method} | `{}` | {paged} | {resend} |",
                text(&e, "api_type"),
                text(&e, "name"),
                text(&op, "path")
            );
        }
    }
    let _ = write!(
        out,
        "\n## Each write: resend safety, its source, and how to find out (generated from connector.json)\n\nWhen an attempt of a `none` write may have reached Klarna and its answer was lost, `publish` fails with `outcome-unknown` and the last column's text.\n\n| Entity | Method | Resend | Source | To find out (`none`) |\n| --- | --- | --- | --- | --- |\n"
    );
    for e in list(&m, "entities") {
        for op in list(&e, "operations") {
            let Some(retry) = op.get("retry") else { continue };
            let source = Some(text(retry, "source")).filter(|s| !s.is_empty()).unwrap_or_else(|| {
                "Klarna's reference for this API declares no `Klarna-Idempotency-Key` and says nothing of resends"
                    .into()
            });
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {source} | {} |",
                text(&e, "name"),
                text(&op, "method").to_ascii_uppercase(),
                text(retry, "safety"),
                text(retry, "check")
            );
        }
    }
    let _ = write!(
        out,
        "\n## Incremental reads (generated from connector.json)\n\n| Entity | By | Window parameters | Format | Order | Look-back (days) |\n| --- | --- | --- | --- | --- | --- |\n"
    );
    for e in list(&m, "entities") {
        if let Some(i) = e.get("incremental") {
            let to = Some(text(i, "to")).filter(|t| !t.is_empty()).map_or(String::new(), |t| format!(", `{t}`"));
            let _ = writeln!(
                out,
                "| `{}` | `{}` | `{}`{to} | {} | {} | {} (setting `lookback_days`) |",
                text(&e, "name"),
                text(i, "field"),
                text(i, "from"),
                text(i, "format"),
                text(i, "order"),
                i.get("lookback_days").map_or("0".to_string(), |d| d.to_string())
            );
        }
        if let Some(parent) = e.get("parent") {
            let _ = writeln!(
                out,
                "| `{}` | its parent `{}`'s window: the child records of each parent record read (`{}` = the parent's `{}`) | | | | |",
                text(&e, "name"),
                text(parent, "entity"),
                text(parent, "param"),
                text(parent, "field")
            );
        }
    }
    let _ = write!(out, "\n## Connection panel (generated from connector.json)\n\n| API type | Auth kinds | Settings | `test()` checks |\n| --- | --- | --- | --- |\n");
    let panel = m.get("panel").cloned().unwrap_or_default();
    for t in list(&panel, "api_types") {
        let settings: Vec<String> = list(&t, "settings").iter().map(setting).collect();
        let settings = if settings.is_empty() { "–".to_string() } else { settings.join("<br>") };
        let auth: Vec<String> = list(&t, "auth").iter().filter_map(|a| a.as_str().map(str::to_string)).collect();
        let checks = t.get("test").map_or(LISTENER_TEST.to_string(), |probe| text(probe, "checks"));
        let _ = writeln!(
            out,
            "| `{}` ({}) | {} | {settings} | {checks} |",
            text(&t, "id"),
            text(&t, "label"),
            auth.join(", ")
        );
    }
    let _ = write!(out, "\n| Auth kind | Fields |\n| --- | --- |\n");
    for k in list(&panel, "auth_kinds") {
        let fields: Vec<String> = list(&k, "fields").iter().map(setting).collect();
        let _ = writeln!(out, "| `{}` ({}) | {} |", text(&k, "id"), text(&k, "label"), fields.join("<br>"));
    }
    let common: Vec<String> = list(&panel, "common_settings").iter().map(setting).collect();
    let _ = write!(out, "\nEvery API type also has: {}.\n", common.join("; "));
    let _ = write!(
        out,
        "\n## Callbacks: what Klarna pushes (generated from connector.json)\n\nRegister `<mount>` + the URL below, where `<mount>` is the public URL your host gives the connection. `<callback_secret>` stands for the setting's value; Klarna fills `{{checkout.order.id}}`.\n\n| API type | Kind | Register at Klarna | URL after `<mount>` | Verified by | Event id | Answer |\n| --- | --- | --- | --- | --- | --- | --- |\n"
    );
    let callbacks = Manifest::get().callbacks;
    for (json, c) in list(&m, "callbacks").iter().zip(callbacks) {
        let verified = match c.verify {
            Verify::HmacSha256 { signature_header, keys_setting, .. } => {
                format!("`{signature_header}` (HMAC-SHA256, key from `{keys_setting}`)")
            }
            Verify::UrlSecret { query_param, setting } => format!("`{query_param}` = `{setting}`"),
            Verify::NonceDigest { digest_field, nonce_field, .. } => {
                format!("`{digest_field}` = SHA-256(`{nonce_field}` ‖ key) for the identifier")
            }
            Verify::BearerToken => "`Authorization: Bearer`: a token `/auth` issued, or the `token`".to_string(),
        };
        let event_id = c
            .event
            .as_ref()
            .map_or("– (issues a bearer token)".to_string(), |e| format!("`{}`", e.id.replace('|', "\\|")));
        let answer = match c.reply {
            Some(status) => format!("{status} at once"),
            None => format!("`respond`: {}", c.answers.iter().map(|a| a.key()).collect::<Vec<_>>().join(", ")),
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | `{}` | {verified} | {event_id} | {answer} |",
            c.api_type,
            c.kind,
            text(json, "register_at"),
            text(json, "register_url"),
        );
    }
    let _ = write!(out, "\n{END}\n");
    Ok(out)
}

/// One setting as the tables show it.
fn setting(s: &Value) -> String {
    let flag = |key: &str| s.get(key).and_then(Value::as_bool).unwrap_or(false);
    let mut flags = vec![if flag("required") { "required" } else { "optional" }.to_string()];
    if flag("secret") {
        flags.push("secret".into());
    }
    if let (Some(min), Some(max)) = (s.get("min"), s.get("max")) {
        flags.push(format!("{min}–{max}"));
    }
    if let Some(default) = s.get("default").and_then(Value::as_str) {
        flags.push(format!("default {default}"));
    }
    if let Some(auth) = s.pointer("/show_when/auth").and_then(Value::as_array) {
        let kinds: Vec<&str> = auth.iter().filter_map(Value::as_str).collect();
        flags.push(format!("shown with auth {}", kinds.join(" or ")));
    }
    let key = s.get("key").and_then(Value::as_str).unwrap_or_default();
    let help = s.get("help").and_then(Value::as_str).unwrap_or_default();
    format!("`{key}` ({}): {}", flags.join(", "), help.trim_end_matches('.'))
}

/// Replaces the generated part of the file at `path` (docs/catalog.md) with [`tables`].
pub fn write_tables(path: &std::path::Path) -> Result<String, String> {
    let readme = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let start = readme.find(BEGIN).ok_or("the file has no begin marker")?;
    let end = readme.find(END).ok_or("the file has no end marker")? + END.len();
    let updated = format!("{}{}{}", &readme[..start], tables()?.trim_end(), &readme[end..]);
    std::fs::write(path, updated).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!("updated {}\n", path.display()))
}
