//! Paging through a list as client-go's pager does: pages of [`PAGE_SIZE`], and one full list
//! when the continue token has expired (410 Gone: the pages took longer than etcd keeps the
//! list's revision), rather than failing the whole load on a big, busy cluster.

use std::future::Future;

use kube::api::{ListParams, ObjectList};

use super::throttle::retry_throttled;

/// Items per page: few round trips (each costs the API server a fixed share: kubectl's 500 lists
/// 20,000 pods about twice as slowly as 5,000 does), yet memory per answer stays bounded.
pub const PAGE_SIZE: u32 = 5000;

/// Every item of the list `base` selects (its label and field selectors), `list` being called
/// once per page with the page's parameters.
pub async fn list_all<T, F, Fut>(base: &ListParams, mut list: F) -> Result<Vec<T>, kube::Error>
where
    F: FnMut(ListParams) -> Fut,
    Fut: Future<Output = Result<ObjectList<T>, kube::Error>>,
    T: Clone,
{
    let mut items = Vec::new();
    let mut params = base.clone().limit(PAGE_SIZE);
    loop {
        let page = match retry_throttled(|| list(params.clone())).await {
            Err(kube::Error::Api(status))
                if status.code == 410 && params.continue_token.is_some() =>
            {
                let everything = retry_throttled(|| list(base.clone())).await?;
                return Ok(everything.items);
            }
            page => page?,
        };
        items.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
    use kube::core::{Status, TypeMeta};

    use super::*;

    fn page(items: &[u32], next: Option<&str>) -> ObjectList<u32> {
        ObjectList {
            types: TypeMeta::default(),
            metadata: ListMeta {
                continue_: next.map(str::to_string),
                ..ListMeta::default()
            },
            items: items.to_vec(),
        }
    }

    fn gone() -> kube::Error {
        kube::Error::Api(
            Status::failure("too old resource version", "Expired")
                .with_code(410)
                .boxed(),
        )
    }

    type Asked = Vec<(Option<u32>, Option<String>)>;

    /// Lists with `server` answering each request; returns the items and what was asked.
    async fn list_with(
        server: impl Fn(Option<u32>, Option<&str>) -> Result<ObjectList<u32>, kube::Error>,
    ) -> (Vec<u32>, Asked) {
        let asked = Mutex::new(Vec::new());
        let items = list_all(&ListParams::default(), |params: ListParams| {
            asked
                .lock()
                .unwrap()
                .push((params.limit, params.continue_token.clone()));
            let answer = server(params.limit, params.continue_token.as_deref());
            async move { answer }
        })
        .await
        .unwrap();
        (items, asked.into_inner().unwrap())
    }

    #[tokio::test]
    async fn pages_are_followed_to_the_end() {
        let (items, asked) = list_with(|_, token| {
            Ok(match token {
                None => page(&[1, 2], Some("a")),
                Some(_) => page(&[3], None),
            })
        })
        .await;
        assert_eq!(items, [1, 2, 3]);
        assert_eq!(
            asked,
            [
                (Some(PAGE_SIZE), None),
                (Some(PAGE_SIZE), Some("a".to_string()))
            ]
        );
    }

    #[tokio::test]
    async fn an_expired_continue_token_falls_back_to_one_full_list() {
        let (items, asked) = list_with(|limit, token| match (limit, token) {
            (Some(_), None) => Ok(page(&[1, 2], Some("a"))),
            (Some(_), Some(_)) => Err(gone()),
            (None, _) => Ok(page(&[1, 2, 3, 4], None)),
        })
        .await;
        assert_eq!(items, [1, 2, 3, 4]);
        assert_eq!(asked.last(), Some(&(None, None)));
    }

    #[tokio::test]
    async fn the_selectors_asked_for_hold_on_every_page_and_in_the_fallback() {
        let base = ListParams::default().fields("type=Warning");
        let selectors = Mutex::new(Vec::new());
        let items = list_all(&base, |params: ListParams| {
            selectors
                .lock()
                .unwrap()
                .push(params.field_selector.clone());
            let answer = match (params.limit, params.continue_token.as_deref()) {
                (Some(_), None) => Ok(page(&[1], Some("a"))),
                (Some(_), Some(_)) => Err(gone()),
                (None, _) => Ok(page(&[1, 2], None)),
            };
            async move { answer }
        })
        .await
        .unwrap();
        assert_eq!(items, [1, 2]);
        let selectors = selectors.into_inner().unwrap();
        assert_eq!(selectors.len(), 3);
        assert!(
            selectors
                .iter()
                .all(|s| s.as_deref() == Some("type=Warning"))
        );
    }

    #[tokio::test]
    async fn a_410_on_the_first_page_is_an_error() {
        let result = list_all(&ListParams::default(), |_| async {
            Err::<ObjectList<u32>, _>(gone())
        })
        .await;
        assert!(matches!(result, Err(kube::Error::Api(status)) if status.code == 410));
    }
}
