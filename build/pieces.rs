//! How the minified manifest is stored in the component, in two parts:
//!
//! - **kept**: the stretches of it the statics use (labels, help texts,
//!   paths), one after another, as plain text, so that each static is a
//!   `&'static str` into it, fixed at compile time;
//! - **rest**: everything between those stretches (keys, punctuation, what
//!   only hosts read), LZ4-compressed, unpacked only by `describe()`.
//!
//! The layout (alternately a stretch of rest and one of kept) lets
//! `describe()` put the text back together. The statics are generated twice:
//! the first time only to learn which stretches they use.

use std::cell::RefCell;

/// Strings shorter than this stay literals: a piece costs as much as they do.
const SHORTEST_PIECE: usize = 8;

/// The minified manifest and the stretches of it the statics use.
#[derive(Default)]
struct Pieces {
    minified: String,
    /// Every `(start, end)` asked for so far, in the minified text.
    used: Vec<(usize, usize)>,
    /// After [`lay_out`]: the merged stretches, `(start, end, offset in kept)`.
    kept: Option<Vec<(usize, usize, usize)>>,
}

thread_local! {
    static PIECES: RefCell<Pieces> = RefCell::default();
}

/// Starts the first pass over `minified`.
pub fn begin(minified: &str) {
    PIECES.with(|p| *p.borrow_mut() = Pieces { minified: minified.to_string(), ..Pieces::default() });
}

/// A `&'static str` expression for `text`: `manifest_piece(start, end)` (a
/// slice of the kept text, evaluated at compile time) when the text occurs
/// in the minified manifest, so the component holds each label, help text
/// and path once; a literal otherwise.
pub fn lit(text: &str) -> String {
    PIECES.with(|p| {
        let mut p = p.borrow_mut();
        let start = match p.minified.find(text) {
            Some(start) if text.len() >= SHORTEST_PIECE => start,
            _ => return format!("{text:?}"),
        };
        let end = start + text.len();
        let Some(kept) = &p.kept else {
            p.used.push((start, end));
            return String::new(); // the first pass's code is thrown away
        };
        match kept.iter().find(|(a, b, _)| *a <= start && end <= *b) {
            Some((a, _, at)) => format!("manifest_piece({}, {})", at + start - a, at + end - a),
            None => super::fail(&format!("{text:?} was not asked for in the first pass")),
        }
    })
}

/// The two parts, after the first pass.
pub struct Layout {
    /// The stretches the statics use, one after another.
    pub kept: String,
    /// The text between them, one after another (uncompressed).
    pub rest: String,
    /// Lengths, alternately of a stretch of `rest` and of one of `kept`,
    /// starting and ending with `rest` (possibly empty).
    pub lengths: Vec<u16>,
}

/// Merges the stretches the first pass used and splits the text there; from
/// now on [`lit`] answers with offsets into the kept text.
pub fn lay_out() -> Layout {
    PIECES.with(|p| {
        let mut p = p.borrow_mut();
        let mut used = std::mem::take(&mut p.used);
        used.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (start, end) in used {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        let length =
            |n: usize| u16::try_from(n).unwrap_or_else(|_| super::fail("a manifest stretch over 65,535 bytes"));
        let (mut layout, mut kept, mut at) =
            (Layout { kept: String::new(), rest: String::new(), lengths: vec![] }, vec![], 0);
        for &(start, end) in &merged {
            layout.rest.push_str(&p.minified[at..start]);
            layout.lengths.push(length(start - at));
            kept.push((start, end, layout.kept.len()));
            layout.kept.push_str(&p.minified[start..end]);
            layout.lengths.push(length(end - start));
            at = end;
        }
        layout.rest.push_str(&p.minified[at..]);
        layout.lengths.push(length(p.minified.len() - at));
        p.kept = Some(kept);
        layout
    })
}
