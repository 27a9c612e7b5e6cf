"""Classification of the failures each backend raises (their real exception classes)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from pyiceberg import exceptions as ice

from wikistream.errors import (
    CatalogError,
    CatalogUnavailableError,
    CommitConflictError,
    DependencyMissingError,
    WikiStreamError,
)
from wikistream.lake.catalog_errors import catalog_errors, translate_catalog_error

SECRET = "fake-Secret-Key-9f8e7d6c"
GLUE = {"type": "glue", "glue.region": "us-east-1", "glue.secret-access-key": SECRET}
S3_SQL = {
    "type": "sql",
    "uri": "sqlite:///x.db",
    "warehouse": "s3://lake/wh",
    "s3.secret-access-key": SECRET,
}


def translate(exc: BaseException, props: dict[str, str]) -> WikiStreamError:
    return translate_catalog_error(exc, action="testing", name="wikistream", props=props)


def test_glue_endpoint_down_is_retryable() -> None:
    error = translate(EndpointConnectionError(endpoint_url="https://glue.x"), GLUE)
    assert isinstance(error, CatalogUnavailableError)
    assert error.retryable


def test_no_aws_credentials_says_where_to_put_them() -> None:
    error = translate(NoCredentialsError(), GLUE)
    assert type(error) is CatalogError
    assert "AWS_ACCESS_KEY_ID" in str(error)


def test_glue_access_denied_is_a_credentials_error() -> None:
    exc = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetDatabase")
    assert "credentials were rejected" in str(translate(exc, GLUE))


@pytest.mark.parametrize(
    ("message", "kind", "words"),
    [
        (
            "AWS Error NETWORK_CONNECTION during PutObject operation: curlCode: 7, "
            "Couldn't connect to server",
            CatalogUnavailableError,
            "cannot reach",
        ),
        ("AWS Error ACCESS_DENIED during PutObject", CatalogError, "may read and write"),
        ("AWS Error NO_SUCH_BUCKET during PutObject", CatalogError, "bucket does not exist"),
        ("AWS Error UNKNOWN (HTTP status 400) SignatureDoesNotMatch", CatalogError, "rejected"),
    ],
)
def test_pyarrow_s3_errors(message: str, kind: type[WikiStreamError], words: str) -> None:
    error = translate(OSError(message), S3_SQL)
    assert type(error) is kind
    assert words in str(error)


def test_commit_conflict_and_unknown_commit_state() -> None:
    conflict = translate(ice.CommitFailedException("branch main changed"), S3_SQL)
    assert isinstance(conflict, CommitConflictError)
    assert conflict.retryable
    unknown = translate(ice.CommitStateUnknownException("504"), S3_SQL)
    assert isinstance(unknown, CatalogUnavailableError)
    assert "may or may not be applied" in str(unknown)


def test_oauth_rest_catalog_hint_names_credential_and_token() -> None:
    props = {"type": "rest", "uri": "https://cat", "credential": f"id:{SECRET}"}
    error = translate(ice.UnauthorizedError("invalid_client"), props)
    assert "'credential'" in str(error)
    assert SECRET not in str(error)


def test_echoed_properties_are_scrubbed() -> None:
    exc = ValueError(f"Could not initialize catalog with the following properties: {S3_SQL}")
    error = translate(exc, S3_SQL)
    assert SECRET not in str(error)
    assert "invalid catalog settings" in str(error)


def test_lazy_import_failure_names_the_extra() -> None:
    error = translate(ModuleNotFoundError("No module named 'boto3'", name="boto3"), GLUE)
    assert isinstance(error, DependencyMissingError)
    assert error.extra == "aws"


def test_lookup_answers_pass_through_unchanged() -> None:
    with pytest.raises(ice.NoSuchTableError), catalog_errors("loading", "w", S3_SQL):
        raise ice.NoSuchTableError("bronze.raw_events")


def test_our_errors_pass_through_unchanged() -> None:
    original = CatalogError("already ours")
    with pytest.raises(CatalogError) as caught, catalog_errors("loading", "w", S3_SQL):
        raise original
    assert caught.value is original


def test_translated_error_drops_the_original_chain() -> None:
    with pytest.raises(CatalogError) as caught, catalog_errors("loading", "w", S3_SQL):
        raise RuntimeError(f"boom {SECRET}")
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert SECRET not in str(caught.value)
