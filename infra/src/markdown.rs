//! Markdown as authored → HTML safe for the mini-program's `rich-text`: rendered by
//! pulldown-cmark, then sanitised by ammonia (scripts, event handlers, `javascript:` links and
//! unknown tags are removed; links get `rel="noopener noreferrer"`).

pub fn to_safe_html(markdown: &str) -> String {
    let parser = pulldown_cmark::Parser::new_ext(
        markdown,
        pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH,
    );
    let mut html = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::Builder::default()
        .url_schemes(["https", "http", "mailto", "tel"].into_iter().collect())
        .clean(&html)
        .to_string()
}

/// pulldown-cmark and ammonia behind `xinli_domain::article::Renderer`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SafeHtml;

impl xinli_domain::article::Renderer for SafeHtml {
    fn to_safe_html(&self, markdown: &str) -> String {
        to_safe_html(markdown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_handlers_never_survive() {
        let html = to_safe_html(
            "## 标题\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[点我](javascript:alert(1))\n\n- 一\n- 二",
        );
        assert!(html.contains("<h2>标题</h2>"));
        assert!(html.contains("<li>一</li>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("onerror"));
        assert!(!html.contains("javascript:"));
    }
}
