//! Paging of lists: `?page=1&page_size=20`, at most 100 per page.

use crate::validation::{Collector, ValidationError};

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;
/// Deeper than anyone pages by hand; keeps offsets far from overflow.
pub const MAX_PAGE: u64 = 10_000;

/// A validated page request (1-based page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub page_size: u64,
}

impl PageRequest {
    pub fn parse(page: Option<u64>, page_size: Option<u64>) -> Result<Self, ValidationError> {
        let page = page.unwrap_or(1);
        let page_size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        let mut c = Collector::new();
        if page == 0 {
            c.push("page", "页码从 1 开始");
        } else if page > MAX_PAGE {
            c.push("page", format!("页码不能超过 {MAX_PAGE}"));
        }
        if page_size == 0 || page_size > MAX_PAGE_SIZE {
            c.push(
                "page_size",
                format!("每页条数须在 1 到 {MAX_PAGE_SIZE} 之间"),
            );
        }
        c.finish()?;
        Ok(Self { page, page_size })
    }

    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.page_size)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

/// Every item of a paged list, fetched page by page at [`MAX_PAGE_SIZE`] (a person's export
/// holds all of their records, not the first page).
pub async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, crate::RepoError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, crate::RepoError>>,
{
    let mut all = vec![];
    for page in 1..=MAX_PAGE {
        let found = fetch(PageRequest {
            page,
            page_size: MAX_PAGE_SIZE,
        })
        .await?;
        let last = (found.items.len() as u64) < MAX_PAGE_SIZE;
        all.extend(found.items);
        if last {
            break;
        }
    }
    Ok(all)
}

/// One page of results plus the total number of matching rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub request: PageRequest,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            request: self.request,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_limits() {
        assert_eq!(
            PageRequest::parse(None, None).unwrap(),
            PageRequest::default()
        );
        assert_eq!(PageRequest::parse(Some(3), Some(10)).unwrap().offset(), 20);
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(None, Some(101)).is_err());
        assert_eq!(PageRequest::parse(Some(0), Some(0)).unwrap_err().0.len(), 2);
    }
}
