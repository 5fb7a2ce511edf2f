"""The report on a store written by the real servers (the staff console's test stack,
tests/staff/conftest.py): one patient's conversation over REST and a staff reply
through the console change the report's figures by exactly what they hold."""
import os
import subprocess
import sys
import uuid

from staff import insights
from tests.e2e.conftest import ROOT
from tests.staff.conftest import STAFF_USER

NO_FEEDBACK, NO_SIGN = insights.Feedback(), insights.Sign(0, 0)


def test_report_counts_a_conversation_held_with_the_real_servers(stack, staff, tmp_path):
    before = insights.build(stack.database())
    sender = f"report-{uuid.uuid4().hex[:10]}"
    for text in ["is a liver calcification dangerous?", "/feedback_unhelpful", "咕噜咕噜 啦啦", "my eyes went yellow",
                 "can I talk to a nurse please"]:
        stack.rest(sender, text)
    assert staff.action(f"/conversations/{sender}/reply", text="Hello from the clinic.").status_code == 303
    after = insights.build(stack.database())
    staff.action(f"/conversations/{sender}/hand-back")  # leaves the console's queue as it was

    def change(read) -> int:
        return read(after) - read(before)

    assert (change(lambda found: found.conversations), change(lambda found: found.questions)) == (1, 5)
    assert change(lambda found: found.not_understood_total) == 1
    assert change(lambda found: found.questions_by_intent.get(("nlu_fallback", "zh"), 0)) == 1
    assert change(lambda found: found.questions_by_intent.get(("ask_dangerous", "en"), 0)) == 1
    assert change(lambda found: found.feedback.get("dangerous", NO_FEEDBACK).not_helpful) == 1
    assert change(lambda found: found.signs.get("jaundice", NO_SIGN).warnings) == 1
    assert change(lambda found: found.hand_offs.asked) == change(lambda found: found.hand_offs.handed_off) == 1
    assert change(lambda found: found.hand_offs.answered) == 1
    assert change(lambda found: found.staff[STAFF_USER].replies if STAFF_USER in found.staff else 0) == 1
    assert "咕噜咕噜 啦啦" in [message.text for message in after.not_understood]

    done = subprocess.run([sys.executable, "-m", "staff.report", "--out", str(tmp_path)], cwd=ROOT,
                          env=dict(os.environ, STAFF_ENDPOINTS=str(stack.endpoints)), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "index.html").is_file() and (tmp_path / "per_day.png").is_file()
    assert "咕噜咕噜 啦啦" in (tmp_path / "not_understood.yml").read_text(encoding="utf-8")
