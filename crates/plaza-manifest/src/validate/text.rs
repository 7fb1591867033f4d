//! Syntax rules for the string fields: ids, identifiers, tags, names, paths, e-mail addresses,
//! identities, URLs and SBOM references.

use crate::error::Invalid;

/// App id: reverse-DNS, at least two labels of `[a-z0-9-]` (1–63 chars, no hyphen at either
/// end), the first label letters only; at most 255 characters.
pub fn app_id(s: &str) -> Result<(), Invalid> {
    let suggestion = || {
        let fixed: String = s
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c == '_' { '-' } else { c })
            .collect();
        (fixed != s && app_id(&fixed).is_ok()).then(|| format!("did you mean `{fixed}`?"))
    };
    let fail = |why: &str| {
        let e = Invalid::new(format!("app id `{s}` is not valid: {why}"));
        match suggestion() {
            Some(h) => e.hint(h),
            None => {
                e.hint("use reverse-DNS notation of a domain you own, e.g. `com.example.where2eat`")
            }
        }
    };
    if s.len() > 255 {
        return Err(fail("longer than 255 characters"));
    }
    let labels: Vec<&str> = s.split('.').collect();
    if labels.len() < 2 {
        return Err(fail("it needs at least two dot-separated labels"));
    }
    for label in &labels {
        if label.is_empty() {
            return Err(fail("it has an empty label"));
        }
        if label.len() > 63 {
            return Err(fail("a label is longer than 63 characters"));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(if c.is_ascii_uppercase() {
                fail("uppercase letters are not allowed")
            } else {
                fail(&format!(
                    "`{c}` is not allowed (use lowercase letters, digits and hyphens)"
                ))
            });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(fail("a label starts or ends with a hyphen"));
        }
    }
    if !labels[0].chars().all(|c| c.is_ascii_lowercase()) {
        return Err(fail("the first label must contain only letters"));
    }
    Ok(())
}

/// Permission and metric names: `[a-z][a-z0-9_]*`, at most 64 characters.
pub fn identifier(s: &str) -> Result<(), Invalid> {
    let ok = s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        return Ok(());
    }
    let fixed: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c == '-' || c == ' ' || c == '.' {
                '_'
            } else {
                c
            }
        })
        .collect();
    let e = Invalid::new(format!(
        "`{}` is not a valid name: use a lowercase letter, then lowercase letters, digits and `_`, at most 64 characters",
        s.escape_debug()
    ));
    Err(if fixed != s && identifier(&fixed).is_ok() {
        e.hint(format!("did you mean `{fixed}`?"))
    } else {
        e
    })
}

/// Tags: lowercase letters and digits in words joined by single hyphens, 1–32 characters.
pub fn tag(s: &str) -> Result<(), Invalid> {
    let ok = s.len() <= 32
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if ok {
        return Ok(());
    }
    let e = Invalid::new(format!(
        "tag `{s}` is not valid: use lowercase letters and digits, words joined by single hyphens, at most 32 characters"
    ));
    let fixed: String = s
        .trim()
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    Err(if !fixed.is_empty() && fixed != s && fixed.len() <= 32 {
        e.hint(format!("did you mean `{fixed}`?"))
    } else {
        e
    })
}

/// Display name: no control characters, no leading or trailing whitespace.
pub fn display_name(s: &str) -> Result<(), Invalid> {
    if s.chars().any(char::is_control) {
        return Err(
            Invalid::new("name contains control characters (such as a newline or tab)")
                .hint("use a single line of plain text"),
        );
    }
    if s.trim() != s {
        return Err(
            Invalid::new(format!("name `{s}` has leading or trailing spaces"))
                .hint(format!("write `{}`", s.trim())),
        );
    }
    Ok(())
}

/// `entry` and other package paths: no control characters or whitespace-only, no `\`, no
/// `..` segment, not a URL.
pub fn package_path(s: &str) -> Result<(), Invalid> {
    if s.trim().is_empty() {
        return Err(Invalid::new("path is blank"));
    }
    if s.chars().any(char::is_control) {
        return Err(Invalid::new(format!(
            "path `{}` contains control characters",
            s.escape_debug()
        )));
    }
    if s.contains("://") {
        return Err(
            Invalid::new(format!("`{s}` is a URL, not a path inside the package"))
                .hint("give the path of the file inside the package, e.g. `/app/index.wasm`"),
        );
    }
    if s.contains('\\') {
        return Err(Invalid::new(format!("path `{s}` uses `\\`")).hint(format!(
            "use `/` as the separator: `{}`",
            s.replace('\\', "/")
        )));
    }
    if s.split('/').any(|seg| seg == "..") {
        return Err(Invalid::new(format!("path `{s}` contains a `..` segment"))
            .hint("paths must stay inside the package; remove `..`"));
    }
    Ok(())
}

/// E-mail address: `local@domain`, local part of atext characters and dots, domain of at least
/// two DNS labels; at most 254 characters.
pub fn email(s: &str) -> Result<(), Invalid> {
    let fail = |why: &str| Invalid::new(format!("`{s}` is not a valid e-mail address: {why}"));
    if s.len() > 254 {
        return Err(fail("longer than 254 characters"));
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Err(fail("it has no `@`").hint("write it as `name@example.com`"));
    };
    if local.is_empty() || local.len() > 64 {
        return Err(fail("the part before `@` must be 1–64 characters"));
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    if local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
        || !local.chars().all(|c| atext(c) || c == '.')
    {
        return Err(fail(
            "the part before `@` contains characters or dots that are not allowed",
        ));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(fail("the domain must be a host name such as `example.com`"));
    }
    Ok(())
}

/// Providers allowed in `provider:handle` identities.
pub const IDENTITY_PROVIDERS: &[&str] = &["github", "gitlab", "user", "team"];

/// Identity of a maintainer or signer: `github|gitlab|user|team:<handle>`, an e-mail address,
/// or (when `allow_did`) a DID `did:<method>:<id>`.
pub fn identity(s: &str, allow_did: bool) -> Result<(), Invalid> {
    let forms = if allow_did {
        "use `did:<method>:<id>`, `github:<handle>`, `gitlab:<handle>`, `user:<handle>`, `team:<handle>` or an e-mail address"
    } else {
        "use `github:<handle>`, `gitlab:<handle>`, `user:<handle>`, `team:<handle>` or an e-mail address"
    };
    if s.contains('@') && !s.contains(':') {
        return email(s);
    }
    let Some((provider, rest)) = s.split_once(':') else {
        return Err(Invalid::new(format!("`{s}` is not a valid identity")).hint(forms));
    };
    if provider == "did" && allow_did {
        let ok = rest.split_once(':').is_some_and(|(method, id)| {
            !method.is_empty()
                && method
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_:%".contains(c))
        });
        return if ok {
            Ok(())
        } else {
            Err(Invalid::new(format!("`{s}` is not a valid DID"))
                .hint("a DID is `did:<method>:<id>`, e.g. `did:example:maintainer`"))
        };
    }
    if !IDENTITY_PROVIDERS.contains(&provider) {
        return Err(Invalid::new(format!(
            "`{s}` uses the unknown identity provider `{provider}`"
        ))
        .hint(forms));
    }
    let handle_ok = !rest.is_empty()
        && rest.len() <= 100
        && rest.starts_with(|c: char| c.is_ascii_alphanumeric())
        && rest.ends_with(|c: char| c.is_ascii_alphanumeric())
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !handle_ok {
        return Err(Invalid::new(format!("`{s}` has an invalid handle"))
            .hint("handles are letters, digits, `.`, `_` and `-`, starting and ending with a letter or digit"));
    }
    Ok(())
}

/// Whether a URL is secure (`https`), given that it is otherwise valid.
pub fn is_insecure_url(s: &str) -> bool {
    s.starts_with("http://")
}

/// Absolute `http`/`https` URL with a host, no whitespace, no credentials; at most 2048
/// characters.
pub fn http_url(s: &str) -> Result<(), Invalid> {
    let fail = |why: &str| Invalid::new(format!("`{s}` is not a valid URL: {why}"));
    if s.len() > 2048 {
        return Err(fail("longer than 2048 characters"));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(fail("it contains whitespace").hint("percent-encode spaces as `%20`"));
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        let hint = if s.starts_with("http") {
            "write the scheme as `https://`".to_owned()
        } else {
            format!("write `https://{s}`")
        };
        return Err(fail("it has no scheme").hint(hint));
    };
    if scheme != "https" && scheme != "http" {
        return Err(fail(&format!(
            "the scheme must be `https` or `http`, not `{scheme}`"
        )));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(fail("it contains credentials").hint("remove the `user:password@` part"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !authority.ends_with(']') => (h, Some(p)),
        _ => (authority, None),
    };
    let host_ok = if let Some(v6) = host.strip_prefix('[') {
        v6.ends_with(']') && v6.len() > 1
    } else {
        !host.is_empty()
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    if !host_ok {
        return Err(fail("the host is missing or malformed"));
    }
    if let Some(p) = port {
        if !matches!(p.parse::<u32>(), Ok(1..=65535)) {
            return Err(fail("the port must be a number from 1 to 65535"));
        }
    }
    Ok(())
}

/// URI schemes accepted for the SBOM reference.
pub const SBOM_SCHEMES: &[&str] = &["https", "http", "s3", "gs", "oci"];

/// SBOM reference: a URI with a scheme from [`SBOM_SCHEMES`] and a non-empty rest, or a relative
/// path inside the package.
pub fn sbom_reference(s: &str) -> Result<(), Invalid> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Invalid::new(format!(
            "SBOM reference `{s}` contains whitespace"
        )));
    }
    if let Some((scheme, rest)) = s.split_once("://") {
        if !SBOM_SCHEMES.contains(&scheme) {
            return Err(Invalid::new(format!("SBOM reference `{s}` uses the unsupported scheme `{scheme}`"))
                .hint("use one of `https://`, `http://`, `s3://`, `gs://`, `oci://`, or a path inside the package"));
        }
        if scheme.starts_with("http") {
            return http_url(s);
        }
        if rest.is_empty() || rest.starts_with('/') {
            return Err(Invalid::new(format!(
                "SBOM reference `{s}` has no bucket, host or repository after `{scheme}://`"
            )));
        }
        return Ok(());
    }
    if s.starts_with('/') {
        return Err(
            Invalid::new(format!("SBOM path `{s}` is absolute")).hint(format!(
                "give a path relative to the package root: `{}`",
                s.trim_start_matches('/')
            )),
        );
    }
    package_path(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids() {
        for ok in [
            "com.example.where2eat",
            "io.plaza",
            "com.ex-ample.app1",
            "org.a.b.c",
        ] {
            assert!(app_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "where2eat",
            "Com.Example.App",
            "com..app",
            "com.-x",
            "1com.x",
            "com.ex_ample",
            "c0m.x",
            "com.x-",
            "",
        ] {
            assert!(app_id(bad).is_err(), "{bad}");
        }
        assert_eq!(
            app_id("Com.Example.App").unwrap_err().hint.as_deref(),
            Some("did you mean `com.example.app`?")
        );
    }

    #[test]
    fn identifiers_and_tags() {
        assert!(identifier("user_calendar").is_ok());
        assert!(identifier("api_calls2").is_ok());
        assert_eq!(
            identifier("api-calls").unwrap_err().hint.as_deref(),
            Some("did you mean `api_calls`?")
        );
        assert!(identifier("_x").is_err());
        assert!(tag("food").is_ok());
        assert!(tag("team-lunch2").is_ok());
        assert_eq!(
            tag("Team Lunch").unwrap_err().hint.as_deref(),
            Some("did you mean `team-lunch`?")
        );
        assert!(tag("a--b").is_err());
    }

    #[test]
    fn emails() {
        assert!(email("dev@where2eat.example").is_ok());
        assert!(email("first.last+tag@sub.example.com").is_ok());
        for bad in [
            "dev",
            "dev@",
            "@x.com",
            "a..b@x.com",
            "dev@localhost",
            "dev@-x.com",
            "a b@x.com",
            ".a@x.com",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identities() {
        assert!(identity("github:where2eat-org", false).is_ok());
        assert!(identity("team:payments", false).is_ok());
        assert!(identity("jane@example.com", false).is_ok());
        assert!(identity("did:example:maintainer", true).is_ok());
        assert!(identity("did:example:maintainer", false).is_err());
        assert!(identity("bitbucket:x", false).is_err());
        assert!(identity("github:", false).is_err());
        assert!(identity("jane", false).is_err());
        assert!(identity("did:x", true).is_err());
    }

    #[test]
    fn urls() {
        for ok in [
            "https://example.com",
            "https://example.com:8443/a?b#c",
            "http://x.io/",
        ] {
            assert!(http_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "example.com",
            "ftp://x.com",
            "https://",
            "https://a b.com",
            "https://u:p@x.com",
            "https://x.com:0",
            "https://-x.com",
        ] {
            assert!(http_url(bad).is_err(), "{bad}");
        }
        assert!(is_insecure_url("http://x.io"));
    }

    #[test]
    fn paths_and_references() {
        assert!(package_path("/app/index.wasm").is_ok());
        assert!(package_path("../x").is_err());
        assert!(package_path("a\\b").is_err());
        assert!(package_path("https://x").is_err());
        assert!(sbom_reference("s3://sbom-bucket/x.json").is_ok());
        assert!(sbom_reference("sbom.cdx.json").is_ok());
        assert!(sbom_reference("/sbom.json").is_err());
        assert!(sbom_reference("ftp://x/y").is_err());
        assert!(sbom_reference("s3://").is_err());
    }
}
