//! The templates (embedded, autoescaped) and what they are given.

use crate::actions::format_utc;
use minijinja::{Environment, Value};
use std::sync::OnceLock;

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        for (name, text) in [
            ("page.html", include_str!("templates/page.html")),
            ("grid.html", include_str!("templates/grid.html")),
            ("counts.html", include_str!("templates/counts.html")),
            ("detail.html", include_str!("templates/detail.html")),
        ] {
            // The templates are compiled in: a syntax error fails the unit test `templates_parse`.
            let _ = env.add_template(name, text);
        }
        env.add_filter("utc", |ms: Option<i64>| {
            ms.map(format_utc).unwrap_or_default()
        });
        env.add_filter("ms", |ms: Option<i64>| {
            ms.map(|m| format!("{:.3} s", m as f64 / 1000.0))
                .unwrap_or_default()
        });
        env
    })
}

/// Renders a template; an error becomes its text (never a panic).
pub fn render(name: &str, context: Value) -> String {
    env()
        .get_template(name)
        .and_then(|t| t.render(context))
        .unwrap_or_else(|e| format!("<p class=\"error\">template {name}: {e}</p>"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_parse() {
        for name in ["page.html", "grid.html", "counts.html", "detail.html"] {
            assert!(super::env().get_template(name).is_ok(), "{name}");
        }
    }
}
