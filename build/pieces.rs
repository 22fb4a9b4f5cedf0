//! How the manifest's strings are stored in the component: the minified
//! manifest, followed by the few strings the statics use that it does not
//! hold verbatim, make one text, stored LZ4-compressed (about a quarter of its
//! size). Each string of the statics is a `Text`: an offset and a length into
//! that text once unpacked (4 bytes, where a `&'static str` takes 8 and its
//! bytes besides). `describe()` returns the text's manifest part.

use std::cell::RefCell;

/// The text being put together.
#[derive(Default)]
struct Pieces {
    /// The minified manifest, then the strings appended by [`text_of`].
    text: String,
}

thread_local! {
    static PIECES: RefCell<Pieces> = RefCell::default();
}

/// Starts the text with `minified`.
pub fn begin(minified: &str) {
    PIECES.with(|p| *p.borrow_mut() = Pieces { text: minified.to_string() });
}

/// A `Text` expression for `string`: its first occurrence in the text (a
/// label, help text or path of the manifest), appended to the text when it
/// has none (a string the manifest holds only with escapes).
pub fn text_of(string: &str) -> String {
    PIECES.with(|p| {
        let mut p = p.borrow_mut();
        let at = match p.text.find(string) {
            Some(at) => at,
            None => {
                p.text.push_str(string);
                p.text.len() - string.len()
            }
        };
        if u16::try_from(p.text.len()).is_err() {
            super::fail("the manifest text is over 65,535 bytes: Text's u16 offsets no longer reach it");
        }
        format!("Text::at({at}, {})", string.len())
    })
}

/// The whole text, when every string has been asked for.
pub fn finish() -> String {
    PIECES.with(|p| std::mem::take(&mut p.borrow_mut().text))
}
