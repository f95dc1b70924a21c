//! The page, embedded: `assets/index.html` with `assets/live.css` and `assets/live.js` put
//! inline, once, so that it is one response with no further request but the JSON.

use std::sync::OnceLock;

const HTML: &str = include_str!("assets/index.html");
const CSS: &str = include_str!("assets/live.css");
const JS: &str = include_str!("assets/live.js");

pub(crate) fn page() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| {
        HTML.replacen("/*live.css*/", CSS, 1)
            .replacen("/*live.js*/", JS, 1)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_is_whole_and_small() {
        let page = super::page();
        assert!(!page.contains("/*live.css*/") && !page.contains("/*live.js*/"));
        assert!(page.len() < 100 * 1024, "{} bytes", page.len());
    }
}
