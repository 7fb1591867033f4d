//! The image reference check: Plaza deploys an image only by digest, because a tag can be moved
//! to other bytes after the gates checked them.
//!
//! ```text
//! reference = name [ ":" tag ] "@sha256:" 64*64( lower-hex )
//! name      = [ domain "/" ] path *( "/" path )   ; domain: has a "." or ":", or is localhost
//! path      = lower-alnum *( separator lower-alnum ), separator = "." / "_" / "__" / 1*"-"
//! tag       = word-char *127( word-char / "." / "-" )
//! ```
//!
//! This is the OCI distribution reference grammar restricted to sha256 digests.

use crate::error::RenderError;

/// Checks that `image` is a name pinned by a sha256 digest (a tag before the digest is allowed;
/// the digest wins).
pub fn check_image(image: &str) -> Result<(), RenderError> {
    let invalid = |reason: &str| RenderError::Invalid {
        field: "image".into(),
        value: image.into(),
        reason: reason.into(),
        hint: "write it as `registry.example.com/team/app@sha256:<64 hex digits>`".into(),
    };
    if image.is_empty() {
        return Err(RenderError::Empty {
            field: "image".into(),
            hint:
                "give the image by digest: `registry.example.com/team/app@sha256:<64 hex digits>`"
                    .into(),
        });
    }
    let Some((name_and_tag, digest)) = image.split_once('@') else {
        let name = strip_tag(image);
        return Err(RenderError::ImageNotPinned {
            image: image.into(),
            hint: format!(
                "refer to it by digest, `{name}@sha256:<64 hex digits>` (`skopeo inspect \
                 --format '{{{{.Digest}}}}' docker://{image}` prints it); a tag can be moved \
                 to other bytes after Plaza checked them, so Plaza never deploys one"
            ),
        });
    };
    let Some(hex) = digest.strip_prefix("sha256:") else {
        return Err(invalid(
            "the digest must be a sha256 digest (`sha256:` and 64 lowercase hex digits)",
        ));
    };
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(invalid(
            "a sha256 digest is exactly 64 lowercase hex digits after `sha256:`",
        ));
    }
    let name = strip_tag(name_and_tag);
    if name.len() < name_and_tag.len() {
        let tag = &name_and_tag[name.len() + 1..];
        if !is_tag(tag) {
            return Err(invalid(
                "the tag before the digest is not a valid tag (letters, digits, `_`, `.`, `-`; at most 128)",
            ));
        }
    }
    if !is_name(name) {
        return Err(invalid(
            "the repository name is not a valid OCI name (lowercase path parts separated by `/`, \
             optionally after a registry host)",
        ));
    }
    Ok(())
}

/// `name[:tag]` without its tag. A `:` belongs to a tag only after the last `/` (before it, it
/// is a registry port).
fn strip_tag(s: &str) -> &str {
    let last_slash = s.rfind('/').map_or(0, |i| i + 1);
    match s[last_slash..].rfind(':') {
        Some(i) => &s[..last_slash + i],
        None => s,
    }
}

fn is_tag(t: &str) -> bool {
    let mut bytes = t.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && t.len() <= 128
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn is_name(name: &str) -> bool {
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1 {
        let first = parts[0];
        if first.contains('.') || first.contains(':') || first == "localhost" {
            if !is_domain(first) {
                return false;
            }
            parts.remove(0);
        }
    }
    !parts.is_empty() && parts.iter().all(|p| is_path_component(p))
}

fn is_domain(d: &str) -> bool {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

fn is_path_component(p: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = p.as_bytes();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    // Separators: ".", "_", "__" or a run of "-", always between alphanumerics.
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn digest_pinned_references_pass() {
        for name in [
            "ghcr.io/acme/where2eat",
            "registry.plaza.local:5000/acme/payments/where2eat",
            "localhost/app",
            "busybox",
            "ghcr.io/acme/where2eat:1.2.0",
            "127.0.0.1:5000/a__b/c--d/e.f",
        ] {
            let r = format!("{name}@{D}");
            assert_eq!(check_image(&r), Ok(()), "{r}");
        }
    }

    #[test]
    fn a_tag_only_reference_is_refused_with_the_digest_form_as_the_fix() {
        let err = check_image("ghcr.io/acme/where2eat:1.2.0").unwrap_err();
        let RenderError::ImageNotPinned { hint, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(
            hint.contains("`ghcr.io/acme/where2eat@sha256:<64 hex digits>`"),
            "{hint}"
        );
        assert!(err.to_string().contains("not pinned by digest"), "{err}");
        // A registry port is not a tag.
        let err = check_image("registry:5000/app").unwrap_err();
        assert!(
            err.to_string().contains("`registry:5000/app@sha256:"),
            "{err}"
        );
        assert!(matches!(
            check_image("busybox"),
            Err(RenderError::ImageNotPinned { .. })
        ));
    }

    #[test]
    fn malformed_references_are_refused() {
        for bad in [
            format!("ghcr.io/acme/app@{}", &D[..70]),
            format!(
                "ghcr.io/acme/app@{}",
                D.to_uppercase().replace("SHA256", "sha256")
            ),
            "ghcr.io/acme/app@sha512:00".to_string(),
            format!("ghcr.io/Acme/app@{D}"),
            format!("@{D}"),
            format!("ghcr.io/acme/app:-bad@{D}"),
            format!("ghcr.io/acme//app@{D}"),
            format!("ghcr.io/acme/app @{D}"),
            format!("ghcr.io/acme/app@{D}\n"),
        ] {
            assert!(
                matches!(check_image(&bad), Err(RenderError::Invalid { .. })),
                "{bad:?}"
            );
        }
        assert!(matches!(check_image(""), Err(RenderError::Empty { .. })));
    }
}
