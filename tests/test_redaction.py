"""One secret filter serves the lake's credentials and the alert sinks' secrets."""

from __future__ import annotations

import io
import logging

from wikistream.redaction import (
    LOG_FILTER,
    MASK,
    SecretLogFilter,
    redact_secret_in_library_logs,
    redact_secrets_in_logs,
    scrub,
)

WEBHOOK = "https://hooks.example/services/T0FAKE/B0FAKE/fake-webhook-token-1"
TARGET = "https://hooks.example/…"


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, None)


def test_each_secret_gets_its_own_replacement_longest_first() -> None:
    log_filter = SecretLogFilter()
    log_filter.add(["fake-token"])
    log_filter.add(["fake-token-extended"], replacement="<sink>")
    record = _record("a %s b %s", "fake-token-extended", "fake-token")
    assert log_filter.filter(record)
    assert record.getMessage() == f"a <sink> b {MASK}"


def test_url_escaped_secrets_and_uri_passwords_are_masked_in_records() -> None:
    log_filter = SecretLogFilter()
    log_filter.add(["p@ss word"], replacement="<pw>")
    record = _record("GET /x?pw=p%40ss%20word from postgresql://u:other-pw@db/x")
    log_filter.filter(record)
    assert record.getMessage() == f"GET /x?pw=<pw> from postgresql://u:{MASK}@db/x"


def test_an_empty_filter_leaves_records_alone() -> None:
    record = _record("postgresql://u:pw@db/x %s", 1)
    assert SecretLogFilter().filter(record)
    assert (record.msg, record.args) == ("postgresql://u:pw@db/x %s", (1,))


def test_scrub_without_secrets_still_masks_uri_passwords() -> None:
    assert scrub("sqlite:////x and s3://k:v@b", {}) == f"sqlite:////x and s3://k:{MASK}@b"


def test_library_logger_records_are_rewritten_for_handlers_added_later() -> None:
    redact_secret_in_library_logs(WEBHOOK, TARGET)
    assert LOG_FILTER in logging.getLogger("httpx").filters
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("httpx")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        logger.info('HTTP Request: POST %s "HTTP/1.1 200 OK"', WEBHOOK)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert stream.getvalue() == f'HTTP Request: POST {TARGET} "HTTP/1.1 200 OK"\n'


def test_root_handlers_mask_alert_and_catalog_secrets_alike() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        redact_secrets_in_logs(["fake-catalog-secret", "abc"])  # "abc" is too short to search
        redact_secret_in_library_logs(WEBHOOK, TARGET)
        logging.getLogger("test.redaction").warning("abc %s %s", "fake-catalog-secret", WEBHOOK)
    finally:
        root.removeHandler(handler)
    assert stream.getvalue() == f"abc {MASK} {TARGET}\n"
