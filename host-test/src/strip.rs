//! `host-test strip FILE`: the component to ship without its
//! `component-name` section. `wasm-component-ld` names every component-level
//! type, instance and function there (about 6 KB for the connector); no host
//! needs them, and `jco opt` (binaryen) only rewrites the core modules, so
//! the section is dropped here, with `wasmparser` reading the sections.

use wasmparser::{Chunk, Parser, Payload};

/// The top-level custom sections left out of the shipped file.
const DROPPED: &[&str] = &["component-name"];

/// `component` without the top-level custom sections in [`DROPPED`]. Every
/// other section, the core modules included, is copied byte for byte, and
/// the result is validated.
pub fn strip(component: &[u8]) -> Result<Vec<u8>, String> {
    let mut parser = Parser::new(0);
    let mut out = Vec::with_capacity(component.len());
    let mut at = 0;
    loop {
        let chunk = parser.parse(&component[at..], true).map_err(|e| format!("not a component: {e}"))?;
        let Chunk::Parsed { consumed, payload } = chunk else {
            return Err("not a component: it ends inside a section".into());
        };
        let end = match &payload {
            // Only the header was consumed: the nested module or component
            // follows, whole, and the parser goes on after it.
            Payload::ModuleSection { unchecked_range, .. } | Payload::ComponentSection { unchecked_range, .. } => {
                usize::try_from(unchecked_range.end).map_err(|e| e.to_string())?
            }
            _ => at + consumed,
        };
        let dropped = matches!(&payload, Payload::CustomSection(custom) if DROPPED.contains(&custom.name()));
        if !dropped {
            out.extend_from_slice(&component[at..end]);
        }
        at = end;
        if let Payload::End(_) = payload {
            break;
        }
    }
    if at != component.len() {
        return Err(format!("{} bytes after the component's end", component.len() - at));
    }
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&out)
        .map_err(|e| format!("the stripped component does not validate: {e}"))?;
    Ok(out)
}

/// `host-test strip FILE`: rewrites `FILE` stripped.
pub fn run(path: &str) -> Result<String, String> {
    let component = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let stripped = strip(&component)?;
    std::fs::write(path, &stripped).map_err(|e| format!("{path}: {e}"))?;
    Ok(format!("{path}: {} bytes ({} bytes of names dropped)\n", stripped.len(), component.len() - stripped.len()))
}
