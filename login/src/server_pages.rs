//! HTML served by the browser-login callback server. Every dynamic value is escaped.

/// The slots of the error page.
pub(crate) struct ErrorPage<'a> {
    pub(crate) title: &'a str,
    pub(crate) message: &'a str,
    pub(crate) code: &'a str,
    pub(crate) description: Option<&'a str>,
    pub(crate) help: &'a str,
}

pub(crate) const GENERIC_TITLE: &str = "Sign-in could not be completed";
pub(crate) const GENERIC_HELP: &str = "Return to Codex to retry, switch accounts, or contact your workspace admin if access is restricted.";

/// Escape `& < > " '` for HTML text and attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2328}\
h1{font-size:1.4rem}code{background:#f0f0f0;padding:0 .3em;border-radius:3px}.muted{color:#59636e}";

pub(crate) fn render_error_page(page: &ErrorPage<'_>) -> String {
    let description = page
        .description
        .map(|text| format!("<p>{}</p>", escape_html(text)))
        .unwrap_or_default();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head>\
<body><h1>{title}</h1><p>{message}</p>{description}<p class=\"muted\">Error code: <code>{code}</code></p>\
<p class=\"muted\">{help}</p></body></html>",
        title = escape_html(page.title),
        message = escape_html(page.message),
        code = escape_html(page.code),
        help = escape_html(page.help),
    )
}

pub(crate) fn render_success_page() -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Signed in to Codex</title><style>{STYLE}</style></head>\
<body><h1>Signed in to Codex</h1><p>You can close this tab and return to your terminal.</p></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_login_error_page_escapes_dynamic_fields() {
        let html = render_error_page(&ErrorPage {
            title: GENERIC_TITLE,
            message: "Sign-in failed: <script>alert('x')</script>",
            code: "a\"b&c",
            description: Some("<img src=x>"),
            help: GENERIC_HELP,
        });
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(html.contains("a&quot;b&amp;c"));
    }
}
