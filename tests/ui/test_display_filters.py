"""The display layer's filters: durations in people's units, codes as words, Markdown out of snippets."""

import pytest

from core.templatetags.itsm_ui import change_value, duration, field_label, humanize, strip_markdown
from knowledge.selectors import HL_START, HL_STOP, highlight


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(14400, "4 hours"), (900, "15 minutes"), (5400, "1 hour 30 minutes"), (86400, "1 day"), (90061, "1 day 1 hour"),
     (1, "1 second"), (0, "0 minutes"), (None, "—")],
)  # fmt: skip
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_codes_become_words():
    assert humanize("in_progress") == "In progress"
    assert field_label("attributes.cpu_count") == "CPU count"
    assert humanize("business_service") == "Business service"
    rel = {"source": 1, "type": "depends_on", "target": 2, "label": "Online shop depends_on Shop web app"}
    assert change_value(rel) == "Online shop depends on Shop web app"
    assert change_value("in_service") == "In service" and change_value("srv-db-01") == "srv-db-01"


def test_markdown_is_stripped_from_snippets():
    assert strip_markdown("Turn the **towards you** lever, see [the guide](http://x) and `ipconfig`") == (
        "Turn the towards you lever, see the guide and ipconfig"
    )
    assert strip_markdown("# Title\n- one\n- two\n> quote") == "Title one two quote"
    snippet = highlight(f"Pull it **{HL_START}towards{HL_STOP} you** <b>")
    assert str(snippet) == "Pull it <mark>towards</mark> you &lt;b&gt;"
