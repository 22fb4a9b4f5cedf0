//! Markdown tables generated from connector.json for the README (a test
//! checks the README holds exactly these, so they cannot drift).

use std::fmt::Write as _;

use klarna_connector::manifest::{Manifest, Setting, Verify};
use klarna_connector::model::Method;

/// What `test()` checks on an API type that calls nothing at Klarna.
const LISTENER_TEST: &str =
    "nothing is called at Klarna: the public URL, and for shipping_key that a token issued now checks";

/// Marker lines around the generated part of the README.
pub const BEGIN: &str = "<!-- BEGIN GENERATED FROM connector.json (cargo run -p host-test -- tables README.md) -->";
/// End marker.
pub const END: &str = "<!-- END GENERATED -->";

/// The coverage and panel tables, between the markers.
pub fn tables() -> Result<String, String> {
    let m = Manifest::get();
    let mut out = format!(
        "{BEGIN}\n\n## Coverage (generated from connector.json)\n\n| API type | Entity | Method | Path | Paged |\n| --- | --- | --- | --- | --- |\n"
    );
    for e in m.entities {
        for op in e.operations {
            let method = op.method;
            let paged = if e.paginated() && method == Method::Get { "yes" } else { "" };
            let _ = writeln!(out, "| {} | `{}` | {method} | `{}` | {paged} |", e.api_type, e.name, op.path);
        }
    }
    let _ = write!(out, "\n## Connection panel (generated from connector.json)\n\n| API type | Auth kinds | Settings | `test()` checks |\n| --- | --- | --- | --- |\n");
    for t in m.panel.api_types {
        let settings: Vec<String> = t.settings.iter().map(setting).collect();
        let settings = if settings.is_empty() { "–".to_string() } else { settings.join("<br>") };
        let _ = writeln!(
            out,
            "| `{}` ({}) | {} | {settings} | {} |",
            t.id,
            t.label,
            t.auth.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
            t.test.as_ref().map_or(LISTENER_TEST, |probe| probe.checks.as_str())
        );
    }
    let _ = write!(out, "\n| Auth kind | Fields |\n| --- | --- |\n");
    for k in m.panel.auth_kinds {
        let fields: Vec<String> = k.fields.iter().map(setting).collect();
        let _ = writeln!(out, "| `{}` ({}) | {} |", k.id, k.label, fields.join("<br>"));
    }
    let common: Vec<String> = m.panel.common_settings.iter().map(setting).collect();
    let _ = write!(out, "\nEvery API type also has: {}.\n", common.join("; "));
    let _ = write!(
        out,
        "\n## Callbacks: what Klarna pushes (generated from connector.json)\n\nRegister `<mount>` + the URL below, where `<mount>` is the public URL your host gives the connection. `<callback_secret>` stands for the setting's value; Klarna fills `{{checkout.order.id}}`.\n\n| API type | Kind | Register at Klarna | URL after `<mount>` | Verified by | Event id | Answer |\n| --- | --- | --- | --- | --- | --- | --- |\n"
    );
    for c in m.callbacks {
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
            c.api_type, c.kind, c.register_at, c.register_url,
        );
    }
    let _ = write!(out, "\n{END}\n");
    Ok(out)
}

fn setting(s: &Setting) -> String {
    let mut flags = vec![if s.required { "required" } else { "optional" }.to_string()];
    if s.secret {
        flags.push("secret".into());
    }
    if let (Some(min), Some(max)) = (s.min, s.max) {
        flags.push(format!("{min}–{max}"));
    }
    if let Some(default) = &s.default {
        flags.push(format!("default {default}"));
    }
    if let Some(when) = &s.show_when {
        flags
            .push(format!("shown with auth {}", when.auth.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(" or ")));
    }
    format!("`{}` ({}): {}", s.key, flags.join(", "), s.help.trim_end_matches('.'))
}

/// Replaces the generated part of the README at `path` with [`tables`].
pub fn write_readme(path: &std::path::Path) -> Result<String, String> {
    let readme = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let start = readme.find(BEGIN).ok_or("the README has no begin marker")?;
    let end = readme.find(END).ok_or("the README has no end marker")? + END.len();
    let updated = format!("{}{}{}", &readme[..start], tables()?.trim_end(), &readme[end..]);
    std::fs::write(path, updated).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!("updated {}\n", path.display()))
}
