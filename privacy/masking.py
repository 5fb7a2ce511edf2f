"""Masks phone numbers, e-mail addresses, dates and record numbers in free text.

Used before anything a patient typed is stored (tracker store), logged
(log record factory) or sent on (hand-off payload).
"""
import logging
import re
from typing import Any, Text

# Order matters: record numbers and e-mails before the bare digit runs they contain.
_MONTHS = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
PATTERNS = [
    ("[record number]", re.compile(
        r"\b(mrn|medical record( number| no\.?)?|record (number|no\.?)|patient (id|number|no\.?)|hospital (number|no\.?)|nhs (number|no\.?))"
        r"\s*(is|:|#)?\s*([a-z]{1,3}[- ]?)?\d(?:[\d-]|\s(?=\d))+", re.IGNORECASE)),
    ("[email]", re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")),
    ("[date]", re.compile(
        r"\b(\d{1,2}[/.-]\d{1,2}[/.-](\d{4}|\d{2})|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}"
        rf"|\d{{1,2}}(st|nd|rd|th)?\s+(of\s+)?{_MONTHS},?\s+\d{{4}}|{_MONTHS}\s+\d{{1,2}}(st|nd|rd|th)?,?\s+\d{{4}})\b",
        re.IGNORECASE)),
    # No dots inside: "127.0.0.1" and "1.2.3" are not phone numbers.
    ("[phone]", re.compile(r"(?<![\w@.])\+?\(?\d[\d ()-]{6,}\d(?![\w@.])")),
    ("[number]", re.compile(r"\b\d{6,}\b")),
]


def mask(text: Text) -> Text:
    for token, pattern in PATTERNS:
        text = pattern.sub(token, text)
    return text


def install_log_masking() -> None:
    """Masks personal details in every log record of this process.

    A record factory rather than a handler filter: Rasa installs its own log
    handlers at start-up, and this catches the records whatever handler prints them.
    """
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "masks_personal_details", False):
        return

    def masking_record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.msg, record.args = mask(record.getMessage()), ()
        return record

    masking_record_factory.masks_personal_details = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masking_record_factory)
