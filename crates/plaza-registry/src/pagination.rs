//! Tag listing with `n` and `last`, as the distribution spec describes it: tags in lexical
//! ("ASCIIbetical", byte-wise) order, only those strictly after `last`, at most `n`; `n = 0`
//! gives an empty list and no next page. When more tags remain, [`TagPage::next_link`] gives
//! the `Link: <…>; rel="next"` header value.

use thiserror::Error;

use crate::name::{NameError, RepoName, Tag};

/// The `n` and `last` query parameters, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagQuery {
    /// At most this many tags; `None` means all of them.
    pub n: Option<usize>,
    /// Only tags lexically after this one.
    pub last: Option<Tag>,
}

/// Why the `n` or `last` query parameter was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PaginationError {
    /// `n` is not a non-negative integer.
    #[error("query parameter `n` = {value:?} is not a non-negative integer")]
    InvalidN {
        /// The value as given.
        value: String,
    },
    /// `last` is not a tag (the spec says it must be a proper tag, not an index).
    #[error("query parameter `last`: {0}")]
    InvalidLast(NameError),
}

impl TagQuery {
    /// Parses the raw query values.
    pub fn parse(n: Option<&str>, last: Option<&str>) -> Result<TagQuery, PaginationError> {
        let n = n
            .map(|v| {
                v.parse::<usize>().map_err(|_| PaginationError::InvalidN {
                    value: v.to_owned(),
                })
            })
            .transpose()?;
        let last = last
            .map(|l| Tag::parse(l).map_err(PaginationError::InvalidLast))
            .transpose()?;
        Ok(TagQuery { n, last })
    }
}

/// One page of tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPage {
    /// The tags of this page, in lexical order.
    pub tags: Vec<String>,
    /// Whether tags remain after this page (then a `Link` header should be sent).
    pub has_next: bool,
}

impl TagPage {
    /// The `Link` header value for the next page, if there is one:
    /// `</v2/<name>/tags/list?n=<n>&last=<last tag of this page>>; rel="next"`. Tags and names
    /// only contain URL-safe characters, so nothing needs escaping.
    pub fn next_link(&self, name: &RepoName, n: usize) -> Option<String> {
        if !self.has_next {
            return None;
        }
        let last = self.tags.last()?;
        Some(format!(
            "</v2/{name}/tags/list?n={n}&last={last}>; rel=\"next\""
        ))
    }
}

/// Selects the page `query` asks for from `tags` (any order, duplicates ignored).
pub fn paginate_tags<I, S>(tags: I, query: &TagQuery) -> TagPage
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut all: Vec<String> = tags.into_iter().map(Into::into).collect();
    all.sort_unstable();
    all.dedup();
    let after: Vec<String> = match &query.last {
        Some(last) => {
            let start = all.partition_point(|t| t.as_str() <= last.as_str());
            all.split_off(start)
        }
        None => all,
    };
    match query.n {
        Some(0) => TagPage {
            tags: Vec::new(),
            has_next: false,
        },
        Some(n) if after.len() > n => {
            let mut page = after;
            page.truncate(n);
            TagPage {
                tags: page,
                has_next: true,
            }
        }
        _ => TagPage {
            tags: after,
            has_next: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: Option<&str>, last: Option<&str>) -> TagQuery {
        TagQuery::parse(n, last).unwrap()
    }

    const TAGS: [&str; 6] = ["v2", "latest", "V1", "1.0", "_x", "1.0"];

    #[test]
    fn all_tags_asciibetical_without_duplicates() {
        let page = paginate_tags(TAGS, &TagQuery::default());
        assert_eq!(page.tags, ["1.0", "V1", "_x", "latest", "v2"]);
        assert!(!page.has_next);
    }

    #[test]
    fn n_limits_and_signals_next() {
        let page = paginate_tags(TAGS, &q(Some("2"), None));
        assert_eq!(page.tags, ["1.0", "V1"]);
        assert!(page.has_next);
        let name = RepoName::parse("acme/app").unwrap();
        assert_eq!(
            page.next_link(&name, 2).unwrap(),
            "</v2/acme/app/tags/list?n=2&last=V1>; rel=\"next\""
        );
        let page = paginate_tags(TAGS, &q(Some("5"), None));
        assert_eq!(page.tags.len(), 5);
        assert!(!page.has_next, "exactly n left: no next page");
        assert_eq!(page.next_link(&name, 5), None);
    }

    #[test]
    fn last_is_exclusive_and_need_not_exist() {
        let page = paginate_tags(TAGS, &q(Some("2"), Some("V1")));
        assert_eq!(page.tags, ["_x", "latest"]);
        assert!(page.has_next);
        let page = paginate_tags(TAGS, &q(None, Some("a")));
        assert_eq!(page.tags, ["latest", "v2"]);
        let page = paginate_tags(TAGS, &q(Some("10"), Some("v2")));
        assert!(page.tags.is_empty());
        assert!(!page.has_next);
    }

    #[test]
    fn n_zero_is_empty_without_link() {
        let page = paginate_tags(TAGS, &q(Some("0"), None));
        assert!(page.tags.is_empty());
        assert!(!page.has_next);
    }

    #[test]
    fn walking_pages_visits_every_tag_once() {
        let tags: Vec<String> = (0..23).map(|i| format!("t{i:02}")).collect();
        let mut seen = Vec::new();
        let mut query = q(Some("5"), None);
        loop {
            let page = paginate_tags(tags.clone(), &query);
            seen.extend(page.tags.iter().cloned());
            if !page.has_next {
                break;
            }
            query.last = Some(Tag::parse(page.tags.last().unwrap()).unwrap());
        }
        assert_eq!(seen, tags);
    }

    #[test]
    fn bad_parameters() {
        assert!(matches!(
            TagQuery::parse(Some("-1"), None),
            Err(PaginationError::InvalidN { .. })
        ));
        assert!(matches!(
            TagQuery::parse(Some("ten"), None),
            Err(PaginationError::InvalidN { .. })
        ));
        assert!(matches!(
            TagQuery::parse(None, Some("a/b")),
            Err(PaginationError::InvalidLast(_))
        ));
    }
}
