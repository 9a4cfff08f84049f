//! Every page of an IAM list, one page at a time.

use crate::aws::errors::from_sdk;
use crate::ports::AwsError;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_async::future::pagination_stream::PaginationStream;

/// Hands every page of a paginated read to `visit`, in order, holding one page at a time (a
/// 100,000-user account's pages are never all in memory). The first page that fails (after the
/// SDK's retries) fails the read, with its error as the SDK gives it, so that the caller can
/// tell a missing entity from a failure.
pub(super) async fn each_page<O, E>(
    mut pages: PaginationStream<Result<O, E>>,
    mut visit: impl FnMut(O),
) -> Result<(), E> {
    while let Some(page) = pages.next().await {
        visit(page?);
    }
    Ok(())
}

/// Every item of every page, in order: `items` takes what one page holds. A failed page fails
/// the read as `operation`.
pub(super) async fn collect_pages<O, E, R, I>(
    operation: &'static str,
    pages: PaginationStream<Result<O, SdkError<E, R>>>,
    items: impl Fn(O) -> I,
) -> Result<Vec<I::Item>, AwsError>
where
    I: IntoIterator,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let mut all = Vec::new();
    each_page(pages, |page| all.extend(items(page)))
        .await
        .map_err(|e| from_sdk(operation, e))?;
    Ok(all)
}
