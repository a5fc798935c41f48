"""An ID number is masked wherever it stands in a log line or an error report, and only then.

The one pattern (destreg/lib/pii.py) serves the log filter, the exception reporter's filter
and the reporter itself; each is checked here with the neighbours a real line has.
"""

import logging
import sys

import pytest
from django.test import override_settings

from destreg.lib.pii import PiiLogFilter, PiiSafeExceptionReporter, mask_id_number

ID_NUMBER = "310115200306060030"
MASKED = mask_id_number(ID_NUMBER)

# Lines as a request log or a traceback shows them: the number right after a name, inside a
# URL-encoded name, in JSON, between underscores, after a label.
NEIGHBOURS = [
    pytest.param(f"学生 王喆{ID_NUMBER} 未找到", id="after Chinese characters"),
    pytest.param(f"GET /search?q=%E5%96%86{ID_NUMBER} 200", id="after a percent-encoded name"),
    pytest.param(f'{{"q": "\\u5586{ID_NUMBER}"}}', id="after a JSON unicode escape"),
    pytest.param(f"next=/search%3Fq%3D%25E5%2596%2586{ID_NUMBER}", id="encoded twice"),
    pytest.param(f"body b'\\xe5\\x96\\x86{ID_NUMBER}'", id="in the repr of bytes"),
    pytest.param(f"file student_{ID_NUMBER}_scan.pdf", id="between underscores"),
    pytest.param(f"id{ID_NUMBER}abc", id="between letters"),
    pytest.param(f"q={ID_NUMBER}", id="after a label"),
]


def _logged(message: str, caplog) -> str:
    logger = logging.getLogger("destreg.test.pii")
    masking = PiiLogFilter()
    logger.addFilter(masking)
    try:
        with caplog.at_level(logging.INFO, logger="destreg.test.pii"):
            logger.info("%s", message)
    finally:
        logger.removeFilter(masking)
    return caplog.text


@pytest.mark.parametrize("line", NEIGHBOURS)
def test_an_id_number_next_to_other_characters_is_masked_in_the_log(line, caplog):
    text = _logged(line, caplog)
    assert ID_NUMBER not in text
    assert MASKED in text


def test_an_id_number_with_an_x_check_character_is_masked_next_to_a_name(caplog):
    text = _logged("王喆31011520030606003X", caplog)
    assert "31011520030606003X" not in text
    assert "310115********003X" in text


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("order 1310115200306060030 paid", id="19 digits"),
        pytest.param("trace 31011520030606003012345 done", id="a longer run of digits"),
        pytest.param("serial 31011520030606003", id="17 digits"),
        pytest.param("%201234567890123456789", id="19 digits after a percent-encoded space"),
    ],
)
def test_a_number_that_is_not_an_id_number_is_left_as_it_is(line, caplog):
    assert line in _logged(line, caplog)


@override_settings(DEBUG=True)
@pytest.mark.parametrize("line", NEIGHBOURS)
def test_an_id_number_next_to_other_characters_is_masked_in_error_reports(line, rf):
    request = rf.get("/reviews/search/")  # the query string would encode the line once more
    query = line  # noqa: F841 (a local the traceback shows)
    try:
        raise ValueError(f"no record for {line}")
    except ValueError:
        reporter = PiiSafeExceptionReporter(request, *sys.exc_info())
    for page in (reporter.get_traceback_html(), reporter.get_traceback_text()):
        assert ID_NUMBER not in page
