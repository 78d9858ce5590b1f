//! The minijinja environment: templates from the repository's top-level `templates/`
//! folder, embedded in the binary. They are read through `codegen-cli/templates`, a symbolic
//! link to that folder, so the package is self-contained: `cargo package` copies the
//! linked files into the crate.
//!
//! Templates own the text of their output; every name, type and escape is computed in
//! Rust and handed over as a view model (see ARCHITECTURE.md, "Code generation"). Auto-escaping
//! is switched off explicitly (minijinja would otherwise pick HTML or JSON escaping from the
//! template's file name), undefined values are errors, `trim_blocks` drops the newline after
//! a block tag, and the final newline of a template is kept.

use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::Error;

/// The template of `router.rs`.
pub(crate) const ROUTER: &str = "router.rs.j2";

const TEMPLATES: &[(&str, &str)] = &[(ROUTER, include_str!("../templates/router.rs.j2"))];

fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// Renders template `name` with `context`.
///
/// # Errors
/// [`Error::Template`] when the template refers to something the context lacks (a bug).
pub(crate) fn render(name: &'static str, context: impl Serialize) -> Result<String, Error> {
    let wrap = |source| Error::Template {
        template: name,
        source,
    };
    let env = environment().map_err(wrap)?;
    let template = env.get_template(name).map_err(wrap)?;
    template
        .render(minijinja::Value::from(minijinja::value::Serde(&context)))
        .map_err(wrap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_not_escaped_and_undefined_is_an_error() {
        let env = environment().unwrap();
        let out = env
            .render_str(
                "{{ x }}",
                minijinja::context! { x => "<a href=\"x\">&</a>" },
            )
            .unwrap();
        assert_eq!(out, "<a href=\"x\">&</a>");
        assert!(
            env.render_str("{{ missing }}", minijinja::context! {})
                .is_err()
        );
        assert!(
            env.render_str("{{ x.missing }}", minijinja::context! { x => 1 })
                .is_err()
        );
    }

    #[test]
    fn block_lines_vanish_and_the_final_newline_stays() {
        let env = environment().unwrap();
        let out = env
            .render_str(
                "{% for i in items %}\n{{ i }}\n{% endfor %}\nend\n",
                minijinja::context! { items => [1, 2] },
            )
            .unwrap();
        assert_eq!(out, "1\n2\nend\n");
    }

    #[test]
    fn every_template_parses() {
        let env = environment().unwrap();
        for (name, _) in TEMPLATES {
            env.get_template(name).unwrap();
        }
    }
}
