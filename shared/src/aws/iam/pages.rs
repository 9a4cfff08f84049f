//! Every page of an IAM list, one page at a time.

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
