//! Markdown tables generated from connector.json for the README (a test
//! checks the README holds exactly these, so they cannot drift).

use std::fmt::Write as _;

use klarna_connector::manifest::{Manifest, Setting};

/// Marker lines around the generated part of the README.
pub const BEGIN: &str = "<!-- BEGIN GENERATED FROM connector.json (cargo run -p host-test -- tables) -->";
/// End marker.
pub const END: &str = "<!-- END GENERATED -->";

/// The coverage and panel tables, between the markers.
pub fn tables() -> Result<String, String> {
    let m = Manifest::get().map_err(|e| e.to_string())?;
    let mut out = format!(
        "{BEGIN}\n\n#### Coverage\n\n| API type | Entity | Method | Path | Paged |\n| --- | --- | --- | --- | --- |\n"
    );
    for e in &m.entities {
        for op in &e.operations {
            let method = op.method.to_method();
            let paged = if e.paginated() && method == http::Method::GET { "yes" } else { "" };
            let _ = writeln!(out, "| {} | `{}` | {method} | `{}` | {paged} |", e.api_type, e.name, op.path);
        }
    }
    let _ = write!(out, "\n#### Connection panel\n\n| API type | Auth kinds | Settings | `test()` checks |\n| --- | --- | --- | --- |\n");
    for t in &m.panel.api_types {
        let settings: Vec<String> = t.settings.iter().map(setting).collect();
        let settings = if settings.is_empty() { "–".to_string() } else { settings.join("<br>") };
        let _ = writeln!(out, "| `{}` ({}) | {} | {settings} | {} |", t.id, t.label, t.auth.join(", "), t.test.checks);
    }
    let _ = write!(out, "\n| Auth kind | Fields |\n| --- | --- |\n");
    for k in &m.panel.auth_kinds {
        let fields: Vec<String> = k.fields.iter().map(setting).collect();
        let _ = writeln!(out, "| `{}` ({}) | {} |", k.id, k.label, fields.join("<br>"));
    }
    let common: Vec<String> = m.panel.common_settings.iter().map(setting).collect();
    let _ = write!(out, "\nEvery API type also has: {}.\n\n{END}\n", common.join("; "));
    Ok(out)
}

fn setting(s: &Setting) -> String {
    let mut flags = vec![if s.required { "required" } else { "optional" }];
    if s.secret {
        flags.push("secret");
    }
    let default = s.default.as_deref().map(|d| format!(", default {d}")).unwrap_or_default();
    format!("`{}` ({}{default}): {}", s.key, flags.join(", "), s.help)
}
