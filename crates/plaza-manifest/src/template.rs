//! Starter app templates, as written by `plaza init`: a manifest that validates plus a small
//! working app for each runtime.

use std::fmt;
use std::str::FromStr;

use crate::error::Invalid;

/// A starter template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Template {
    /// A Rust WebAssembly component serving HTTP through `wasi:http` (runtime `wasm`).
    WasmHttp,
    /// A container image with a small Python HTTP server (runtime `container`).
    Container,
    /// A Python function handler (runtime `function`).
    Function,
}

impl Template {
    /// Every template.
    pub const ALL: &'static [Template] =
        &[Template::WasmHttp, Template::Container, Template::Function];

    /// The template's name as given to `plaza init --template`.
    pub fn as_str(self) -> &'static str {
        match self {
            Template::WasmHttp => "wasm-http",
            Template::Container => "container",
            Template::Function => "function",
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Template {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Template::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                Invalid::new(format!("unknown template `{s}`"))
                    .hint("choose one of `wasm-http`, `container`, `function`")
            })
    }
}

/// One file of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFile {
    /// Path relative to the new app's folder, with `/` separators.
    pub path: String,
    /// The file's contents.
    pub contents: String,
}

macro_rules! t {
    ($dir:literal, $($path:literal => $src:literal),* $(,)?) => {
        &[ $( ($path, include_str!(concat!("../templates/", $dir, "/", $src))), )* ]
    };
}

fn sources(template: Template) -> &'static [(&'static str, &'static str)] {
    match template {
        Template::WasmHttp => t!("wasm-http",
            "micro-app.yaml" => "micro-app.yaml",
            "Cargo.toml" => "Cargo.toml",
            "src/lib.rs" => "src/lib.rs",
            "README.md" => "README.md",
            ".gitignore" => "gitignore",
        ),
        Template::Container => t!("container",
            "micro-app.yaml" => "micro-app.yaml",
            "Dockerfile" => "Dockerfile",
            "app.py" => "app.py",
            "README.md" => "README.md",
        ),
        Template::Function => t!("function",
            "micro-app.yaml" => "micro-app.yaml",
            "handler.py" => "handler.py",
            "README.md" => "README.md",
        ),
    }
}

/// A package-name slug from the app id's last label: `com.example.where2eat` → `where2eat`.
fn slug(app_id: &str) -> String {
    slugify(app_id.rsplit('.').next().unwrap_or(app_id))
}

/// Lowercase letters, digits and hyphens from any text, starting with a letter (`app-` is put in
/// front otherwise): `My App!` → `my-app`, `1st` → `app-1st`.
pub fn slugify(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut s = mapped.trim_matches('-').to_owned();
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        s.insert_str(0, "app-");
    }
    s.trim_end_matches('-').to_owned()
}

/// The app id `plaza init` proposes for a folder: `com.example.<slug of the folder name>`.
pub fn default_app_id(folder: &str) -> String {
    format!("com.example.{}", slugify(folder))
}

/// Escapes a value for a double-quoted string in YAML, Rust or Python (all share `\\`, `\"`,
/// `\n`, `\t`, `\r` and `\u` escapes for other control characters).
fn escape_quoted(s: &str, unicode_escape: fn(char) -> String) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&unicode_escape(c)),
            c => out.push(c),
        }
    }
    out
}

/// The files of `template` for a new app. `app_id` and `app_name` are substituted as given;
/// the caller validates them (the generated manifest is then valid).
pub fn files(template: Template, app_id: &str, app_name: &str) -> Vec<TemplateFile> {
    let slug = slug(app_id);
    let yaml_name = format!(
        "\"{}\"",
        escape_quoted(app_name, |c| format!("\\u{:04X}", c as u32))
    );
    let rust_name = escape_quoted(app_name, |c| format!("\\u{{{:x}}}", c as u32));
    let py_name = escape_quoted(app_name, |c| format!("\\u{:04x}", c as u32));
    let single_line = app_name.replace(['\n', '\r'], " ");
    let crate_file = slug.replace('-', "_");
    let vars: [(&str, &str); 7] = [
        ("id", app_id),
        ("name_yaml", &yaml_name),
        ("name_rust", &rust_name),
        ("name_py", &py_name),
        ("crate_file", &crate_file),
        ("crate", &slug),
        ("name", &single_line),
    ];
    sources(template)
        .iter()
        .map(|(path, src)| TemplateFile {
            path: (*path).to_owned(),
            contents: render(src, &vars),
        })
        .collect()
}

/// Replaces each `{{key}}` in one pass, so substituted values are never expanded again.
fn render(src: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}").and_then(|end| {
            let key = &after[..end];
            vars.iter().find(|(k, _)| *k == key).map(|(_, v)| (end, *v))
        }) {
            Some((end, value)) => {
                out.push_str(value);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        for t in Template::ALL {
            assert_eq!(t.as_str().parse::<Template>().unwrap(), *t);
        }
        assert!("wasm".parse::<Template>().is_err());
    }

    #[test]
    fn every_template_manifest_validates() {
        for t in Template::ALL {
            for (id, name) in [
                ("com.example.where2eat", "Where2Eat"),
                ("io.acme.x-1", "Quote \"me\" \\ {{id}} please"),
            ] {
                let files = files(*t, id, name);
                let m = files
                    .iter()
                    .find(|f| f.path == "micro-app.yaml")
                    .expect("manifest");
                let v = crate::load("micro-app.yaml", m.contents.as_bytes());
                assert!(v.is_valid(), "{t}: {}", crate::render_text(&v.diagnostics));
                assert!(
                    v.diagnostics.is_empty(),
                    "{t}: {}",
                    crate::render_text(&v.diagnostics)
                );
                let manifest = v.manifest.unwrap();
                assert_eq!(manifest.id, id);
                assert_eq!(manifest.name, name);
                assert!(
                    files.iter().all(|f| !f.contents.contains("{{crate")),
                    "{t}: unreplaced placeholder"
                );
            }
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("com.example.where2eat"), "where2eat");
        assert_eq!(slug("com.example.1app"), "app-1app");
        assert_eq!(slug("com.example.my-app"), "my-app");
        assert_eq!(default_app_id("My App!"), "com.example.my-app");
        assert_eq!(default_app_id("123"), "com.example.app-123");
    }

    #[test]
    fn wasm_template_has_the_expected_files() {
        let paths: Vec<String> = files(Template::WasmHttp, "com.example.a", "A")
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(
            paths,
            [
                "micro-app.yaml",
                "Cargo.toml",
                "src/lib.rs",
                "README.md",
                ".gitignore"
            ]
        );
    }
}
