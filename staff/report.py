"""The insights report: how the assistant does, from the tracker store.

    python -m staff.report [--out DIR] [--since YYYY-MM-DD] [--days N] [--timezone ZONE]

writes DIR (default results/report/): index.html (plots beside it as PNG files),
one CSV file per table (UTF-8 with a byte-order mark, so that spreadsheet programs
read Chinese text) and not_understood.yml, the messages the assistant did not
understand, grouped and masked, in Rasa's NLU format for the content team to label.
The database is the tracker store's (staff/store.py: endpoints.yml, or
STAFF_ENDPOINTS=endpoints.prod.yml for PostgreSQL). Days are the clinic's
(the time zone in content/clinic.yml) unless --timezone names another.

For the staff console (the numbers come from staff/insights.py):

    from staff import insights, report, store
    found = insights.build(store.engine(), since, until, report.clinic_timezone())  # an insights.Insights
    html = report.render_html(found)          # an HTML fragment, plots inline (data: URIs)
    report.tables(found)                      # the same tables as data (report.Table)
    report.charts(found)                      # the plots, PNG bytes by table name
    report.write_report(found, out_dir)       # the files above

The fragment has no <style> or script (a page with a Content-Security-Policy needs
`img-src data:` for its plots); it uses the classes `insights`, `number`, `chart`
and `none`.
"""
import argparse
import base64
import csv
import datetime as dt
import html
import io
import re
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.dates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import yaml  # noqa: E402

from content_model import ContentError, Library, load_library  # noqa: E402
from privacy.masking import mask  # noqa: E402
from staff import insights, store  # noqa: E402
from staff.insights import Insights  # noqa: E402

DEFAULT_OUT = store.PROJECT_ROOT / "results" / "report"
TO_LABEL = "to_label"  # the placeholder intent of not_understood.yml
SHOWN_NOT_UNDERSTOOD = 50  # rows of the HTML table; the CSV file and the YAML have them all
# Colour-blind safe (Okabe and Ito), always in this order.
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
STYLE = {"figure.dpi": 100, "savefig.dpi": 100, "font.size": 10, "axes.titlesize": 11, "axes.grid": True,
         "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False}
# Messages that are not a topic's question, in plain words; the others show their intent.
OTHER_MESSAGES = {
    "nlu_fallback": "Not understood",
    "report_red_flag": "Told of a warning sign",
    "out_of_scope": "Outside what the assistant covers",
    "request_human": "Asked for a person",
    "feedback_helpful": "Pressed 'This helped'",
    "feedback_unhelpful": "Pressed 'This did not help'",
}


# -- labels ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def library() -> Library:
    return load_library()


def topic_of(intent: Optional[str]) -> Optional[str]:
    topic = library().content(None).topic_for_intent(intent)
    return topic.id if topic else None


def topic_label(topic_id: Optional[str]) -> str:
    topic = library().content(None).topic(topic_id)
    return topic.question if topic else f"Topic: {topic_id or 'none'}"


def message_label(intent: Optional[str]) -> str:
    topic_id = topic_of(intent)
    if topic_id:
        return topic_label(topic_id)
    return OTHER_MESSAGES.get(intent or "", f"Other: {(intent or 'no intent').replace('_', ' ')}")


def sign_label(sign_id: str) -> str:
    if not sign_id:
        return "A warning sign not named"
    names = {sign.id: sign.name for sign in library().content(None).red_flags.signs}
    return names.get(sign_id, sign_id).capitalize()


def clinic_timezone() -> str:
    """The clinic's time zone (content/clinic.yml): the report's days are the clinic's days."""
    return library().hours.timezone.key


def language_label(code: str) -> str:
    language = library().languages.languages.get(code)
    return f"{language.name} ({code})" if language else "Not known"


def languages_of(found: Insights) -> List[str]:
    """The languages in the data, in the order of content/languages.yml."""
    seen = {language for _, language in found.questions_by_intent}
    order = library().languages.codes
    return sorted(seen, key=lambda code: (order.index(code) if code in order else len(order), code))


# -- tables ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"  # text, count, share (0..1), seconds, date


@dataclass(frozen=True)
class Table:
    name: str  # the CSV file's and the plot's name
    title: str
    caption: str
    columns: List[Column]
    rows: List[Tuple[Any, ...]]
    chart_alt: str = ""  # set when the table has a plot


def _share(part: int, whole: int) -> Optional[float]:
    return part / whole if whole else None


def tables(found: Insights) -> List[Table]:
    hand_offs = found.hand_offs
    summary = Table("summary", "Summary", "The period at a glance.", [Column("Measure"), Column("Value", "text")], [
        ("Conversations", _count(found.conversations)),
        ("Questions (messages from patients)", _count(found.questions)),
        ("Messages not understood", f"{_count(found.not_understood_total)} ({_percent(found.fallback_rate)})"),
        ("Hand-offs to staff", _count(hand_offs.handed_off)),
        ("Median wait for a first staff reply", _duration(hand_offs.median_wait)),
        ("Still waiting for staff", _count(hand_offs.still_waiting)),
    ])
    per_day = Table(
        "per_day", "Conversations and questions per day",
        f"Each day ({found.timezone} time): conversations in which the patient wrote, their messages, "
        "and how many of those the assistant did not understand.",
        [Column("Day", "date"), Column("Conversations", "count"), Column("Questions", "count"),
         Column("Not understood", "count"), Column("Share not understood", "share")],
        [(day.day, day.conversations, day.questions, day.not_understood, _share(day.not_understood, day.questions))
         for day in found.days],
        "Line charts of conversations and questions per day, and of the share of messages not understood.")
    languages = languages_of(found)
    by_message: Dict[str, Dict[str, int]] = {}
    for (intent, language), count in found.questions_by_intent.items():
        counts = by_message.setdefault(message_label(intent), {})
        counts[language] = counts.get(language, 0) + count
    split = len(languages) > 1
    totals = {code: sum(count for (_, language), count in found.questions_by_intent.items() if language == code)
              for code in languages}
    unclear = {code: found.questions_by_intent.get((insights.FALLBACK_INTENT, code), 0) for code in languages}
    by_topic = Table(
        "by_topic", "Questions by topic",
        "Patient messages by what they asked" + (", in each language." if split else ".")
        + " Messages that are not a topic's question are listed by kind.",
        [Column("Topic")] + [Column(language_label(code), "count") for code in languages if split]
        + [Column("Total", "count")],
        sorted(((label, *[counts.get(code, 0) for code in languages if split], sum(counts.values()))
                for label, counts in by_message.items()), key=lambda row: (-row[-1], row[0])),
        "Bar chart of the questions asked about each topic" + (", by language." if split else "."))
    by_language = Table(
        "by_language", "Questions by language",
        "Patient messages in each language (the language the assistant answered in), and how many were not understood.",
        [Column("Language"), Column("Questions", "count"), Column("Not understood", "count"),
         Column("Share not understood", "share")],
        [(language_label(code), totals[code], unclear[code], _share(unclear[code], totals[code]))
         for code in languages])
    feedback = Table(
        "feedback", "Answers that did not help",
        "The 'This helped' and 'This did not help' buttons, by the topic of the answer. Most 'did not help' first.",
        [Column("Topic"), Column("Did not help", "count"), Column("Helped", "count"),
         Column("Share that did not help", "share")],
        sorted(((topic_label(topic), counts.not_helpful, counts.helpful,
                 _share(counts.not_helpful, counts.helpful + counts.not_helpful))
                for topic, counts in found.feedback.items()), key=lambda row: (-row[1], -row[2], row[0])),
        "Bar chart of 'did not help' and 'helped' presses for each topic.")
    groups = not_understood_groups(found)
    not_understood = Table(
        "not_understood", "Messages the assistant did not understand",
        "Grouped when they differ only in capitals, spaces or numbers; personal details masked. Most frequent first"
        + (f" (the first {SHOWN_NOT_UNDERSTOOD} here; all of them in not_understood.csv)."
           if len(groups) > SHOWN_NOT_UNDERSTOOD else "."),
        [Column("Message"), Column("Language"), Column("Times", "count")],
        [(group.example, language_label(group.language), group.count) for group in groups])
    red_flags = Table(
        "red_flags", "Warning signs",
        "Times the assistant warned about each warning sign, and in how many conversations.",
        [Column("Warning sign"), Column("Warnings", "count"), Column("Conversations", "count")],
        sorted(((sign_label(sign), counts.warnings, counts.conversations) for sign, counts in found.signs.items()),
               key=lambda row: (-row[1], row[0])),
        "Bar chart of the warnings given for each warning sign.")
    hand_off_counts = Table(
        "hand_offs", "Hand-offs to staff",
        "Patients who asked for a person, and what came of it.",
        [Column("Measure"), Column("Hand-offs", "count")], [
            ("Asked for a person", hand_offs.asked),
            ("Handed to staff (the assistant went quiet)", hand_offs.handed_off),
            ("Answered by staff", hand_offs.answered),
            ("Handed back with no staff reply", hand_offs.handed_back_unanswered),
            ("Still waiting for a first reply", hand_offs.still_waiting),
        ])
    waits = Table(
        "waits", "Waiting for staff",
        "How long patients waited from the hand-off to a first reply from staff.",
        [Column("Measure"), Column("Time", "seconds")], [
            ("Median wait for a first reply", hand_offs.median_wait),
            ("9 in 10 waited at most (90th percentile)", hand_offs.p90_wait),
            ("Longest wait of those still waiting", hand_offs.longest_still_waiting),
        ], "Histogram of the waits for a first staff reply, in minutes.")
    staff = Table(
        "staff", "Answers by staff member",
        "Replies each member of staff sent, in how many conversations, and how fast they answered the hand-offs "
        "they took first.",
        [Column("Staff member"), Column("Replies", "count"), Column("Conversations", "count"),
         Column("Hand-offs answered first", "count"), Column("Median time to first reply", "seconds")],
        sorted(((name, counts.replies, counts.conversations, counts.first_replies, counts.median_first_reply)
                for name, counts in found.staff.items()), key=lambda row: (-row[1], row[0])))
    return [summary, per_day, by_topic, by_language, feedback, not_understood, red_flags, hand_off_counts, waits,
            staff]


def _count(value: int) -> str:
    return f"{value:,}"


def _percent(value: Optional[float]) -> str:
    return "none" if value is None else f"{value:.1%}"


def _duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "none"
    minutes = round(seconds / 60)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _shown(value: Any, kind: str) -> str:
    if value is None:
        return "none"
    if kind == "count":
        return _count(value)
    if kind == "share":
        return _percent(value)
    if kind == "seconds":
        return _duration(value)
    return str(value)


def _raw(value: Any, kind: str) -> Any:
    """A CSV cell: numbers as numbers (shares 0..1, durations in seconds)."""
    if value is None:
        return ""
    if kind == "share":
        return f"{value:.4f}"
    if kind == "seconds":
        return f"{value:.1f}"
    return value


# -- messages not understood -----------------------------------------------------------


@dataclass(frozen=True)
class Group:
    example: str  # the most frequent wording, masked
    language: str
    count: int


_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
# "[text](entity)" and "[text]{...}" are entity annotations in Rasa's NLU format: a
# masked "[phone](...)" must stay plain text.
_ANNOTATION = re.compile(r"\](?=[({])")


def normalised(text: str) -> str:
    return _SPACES.sub(" ", _DIGITS.sub("0", text.casefold())).strip()


def not_understood_groups(found: Insights) -> List[Group]:
    """The messages not understood, masked (again: a store written before masking
    was switched on may hold personal details), grouped by normalised text and language."""
    wordings: Dict[Tuple[str, str], Dict[str, int]] = {}
    for message in found.not_understood:
        text = mask(message.text).strip()
        if not text:
            continue
        variants = wordings.setdefault((message.language, normalised(text)), {})
        variants[text] = variants.get(text, 0) + message.count
    groups = [Group(min(variants, key=lambda text: (-variants[text], text)), language, sum(variants.values()))
              for (language, _), variants in wordings.items()]
    return sorted(groups, key=lambda group: (-group.count, group.language, group.example))


def nlu_yaml(groups: Sequence[Group]) -> str:
    """Rasa's NLU training data format: one `to_label` entry per language, most frequent first."""
    by_language: Dict[str, List[Group]] = {}
    for group in groups:
        by_language.setdefault(group.language, []).append(group)
    data = {"version": "3.1", "nlu": [
        {"intent": TO_LABEL, "metadata": {"language": language or "unknown"},
         "examples": [{"text": _ANNOTATION.sub("] ", group.example), "metadata": {"count": group.count}}
                      for group in language_groups]}
        for language, language_groups in by_language.items()]}
    header = ("# Messages the assistant did not understand, grouped and masked, most frequent first.\n"
              "# Move each example to the intent it should have had (data/nlu/<language>/), or leave it out.\n")
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


# -- plots ----------------------------------------------------------------------------


def charts(found: Insights) -> Dict[str, bytes]:
    """PNG plots by table name; a table without data has none."""
    drawn: Dict[str, bytes] = {}
    with plt.style.context("default"), matplotlib.rc_context(STYLE):
        for name, draw in (("per_day", _plot_days), ("by_topic", _plot_topics), ("feedback", _plot_feedback),
                           ("red_flags", _plot_signs), ("waits", _plot_waits)):
            figure = draw(found)
            if figure is None:
                continue
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", metadata={"Software": None}, bbox_inches="tight")
            plt.close(figure)
            drawn[name] = buffer.getvalue()
    return drawn


def _plot_days(found: Insights) -> Optional[plt.Figure]:
    if not found.questions:
        return None
    figure, (counts, shares) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True,
                                           gridspec_kw={"height_ratios": [2, 1]})
    days = [day.day for day in found.days]
    line = {"marker": "o", "markersize": 3 if len(days) < 60 else 0}
    counts.plot(days, [day.questions for day in found.days], color=COLOURS[0], label="Questions", **line)
    counts.plot(days, [day.conversations for day in found.days], color=COLOURS[1], label="Conversations", **line)
    counts.set_title("Conversations and questions per day")
    counts.legend(loc="upper left")
    counts.set_ylim(bottom=0)
    shares.plot(days, [100 * (_share(day.not_understood, day.questions) or 0) for day in found.days],
                color=COLOURS[3], **line)
    shares.set_title("Share of messages not understood (%)")
    shares.set_ylim(bottom=0)
    # Half a day either side: a single day is a point in the middle, not years of empty axis.
    noon = dt.time(12)
    shares.set_xlim(dt.datetime.combine(days[0], noon) - dt.timedelta(days=1), dt.datetime.combine(days[-1], noon))
    locator = matplotlib.dates.DayLocator(interval=-(-len(days) // 10))  # whole days, at most about 10 ticks
    shares.xaxis.set_major_locator(locator)
    shares.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%Y-%m-%d"))
    figure.autofmt_xdate()
    return figure


def _barh(title: str, labels: List[str], series: List[Tuple[str, List[int]]], stacked: bool) -> plt.Figure:
    """Horizontal bars, the first label on top."""
    figure, axes = plt.subplots(figsize=(9, 1.2 + 0.32 * len(labels)))
    places = list(range(len(labels)))[::-1]
    left = [0] * len(labels)
    height = 0.8 if stacked else 0.8 / len(series)
    for number, (name, values) in enumerate(series):
        if stacked:
            axes.barh(places, values, left=left, height=height, color=COLOURS[number], label=name)
            left = [before + value for before, value in zip(left, values)]
        else:
            shift = (number - (len(series) - 1) / 2) * height
            axes.barh([place - shift for place in places], values, height=height, color=COLOURS[number], label=name)
    axes.set_yticks(places)
    axes.set_yticklabels(labels)
    axes.set_title(title)
    axes.xaxis.get_major_locator().set_params(integer=True)
    if len(series) > 1:
        axes.legend(loc="lower right")
    return figure


def _plot_topics(found: Insights) -> Optional[plt.Figure]:
    topics: Dict[str, Dict[str, int]] = {}
    for (intent, language), count in found.questions_by_intent.items():
        topic_id = topic_of(intent)
        if topic_id:
            counts = topics.setdefault(topic_id, {})
            counts[language] = counts.get(language, 0) + count
    if not topics:
        return None
    ordered = sorted(topics, key=lambda topic_id: (-sum(topics[topic_id].values()), topic_id))
    # Language codes, not names: the plot's font has no Chinese characters.
    series = [(code or "?", [topics[topic_id].get(code, 0) for topic_id in ordered]) for code in languages_of(found)]
    return _barh("Questions by topic", [topic_label(topic_id) for topic_id in ordered], series, stacked=True)


def _plot_feedback(found: Insights) -> Optional[plt.Figure]:
    if not found.feedback:
        return None
    ordered = sorted(found.feedback, key=lambda topic: (-found.feedback[topic].not_helpful, str(topic)))
    return _barh("Answers that did not help, by topic", [topic_label(topic) for topic in ordered],
                 [("Did not help", [found.feedback[topic].not_helpful for topic in ordered]),
                  ("Helped", [found.feedback[topic].helpful for topic in ordered])], stacked=False)


def _plot_signs(found: Insights) -> Optional[plt.Figure]:
    if not found.signs:
        return None
    ordered = sorted(found.signs, key=lambda sign: (-found.signs[sign].warnings, sign))
    return _barh("Warnings given, by warning sign", [sign_label(sign) for sign in ordered],
                 [("Warnings", [found.signs[sign].warnings for sign in ordered])], stacked=True)


def _plot_waits(found: Insights) -> Optional[plt.Figure]:
    if not found.hand_offs.waits:
        return None
    figure, axes = plt.subplots(figsize=(9, 3.5))
    axes.hist([wait / 60 for wait in found.hand_offs.waits], bins=30, color=COLOURS[0])
    axes.set_title("Wait for a first staff reply")
    axes.set_xlabel("minutes")
    axes.set_ylabel("hand-offs")
    return figure


# -- HTML and files --------------------------------------------------------------------


def period_text(found: Insights) -> str:
    first = found.since or (found.days[0].day if found.days else None)
    last = found.until - dt.timedelta(days=1) if found.until else (found.days[-1].day if found.days else None)
    if first is None or last is None:
        return "No conversations in this period."
    return f"From {first.isoformat()} to {last.isoformat()} ({found.timezone} time)."


def render_html(found: Insights) -> str:
    """The report as an HTML fragment, its plots inline (data: URIs)."""
    sources = {name: f"data:image/png;base64,{base64.b64encode(png).decode()}" for name, png in charts(found).items()}
    return _fragment(found, sources)


def _fragment(found: Insights, plots: Dict[str, str]) -> str:
    """The HTML fragment; `plots` gives the image address of each table that has a plot."""
    parts = ['<section class="insights">', f"<p>{html.escape(period_text(found))}</p>"]
    for table in tables(found):
        parts.append(f'<h2 id="{table.name}">{html.escape(table.title)}</h2>')
        if table.name in plots:
            parts.append(f'<img class="chart" src="{plots[table.name]}" alt="{html.escape(table.chart_alt)} '
                         'The numbers are in the table below.">')
        rows = table.rows[:SHOWN_NOT_UNDERSTOOD] if table.name == "not_understood" else table.rows
        parts.append(_html_table(table, rows))
    parts.append("</section>")
    return "\n".join(parts)


def _html_table(table: Table, rows: List[Tuple[Any, ...]]) -> str:
    caption = f"<caption>{html.escape(table.caption)}</caption>"
    if not rows:
        return f'<table>{caption}<tbody><tr><td class="none">None in this period.</td></tr></tbody></table>'
    numeric = [column.kind in ("count", "share", "seconds") for column in table.columns]
    head = "".join(f'<th scope="col"{" class=number" if number else ""}>{html.escape(column.title)}</th>'
                   for column, number in zip(table.columns, numeric))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=number" if number else ""}>{html.escape(_shown(value, column.kind))}</td>'
                         for value, column, number in zip(row, table.columns, numeric)) + "</tr>"
        for row in rows)
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>How the assistant does: {period}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a;
       line-height: 1.45; }}
table {{ border-collapse: collapse; margin: 0.5rem 0 2rem; }}
caption {{ text-align: left; padding: 0.3rem 0; color: #444; }}
th, td {{ border-bottom: 1px solid #ccc; padding: 0.25rem 0.75rem 0.25rem 0; text-align: left; vertical-align: top; }}
.number {{ text-align: right; font-variant-numeric: tabular-nums; }}
.chart {{ max-width: 100%; height: auto; }}
h2 {{ margin-top: 2.5rem; }}
</style>
</head>
<body>
<h1>How the assistant does</h1>
<p>Made {made} from the clinic's stored conversations. Each table is also a CSV file in this folder;
the messages not understood are in not_understood.yml, ready to label.</p>
{fragment}
</body>
</html>
"""


def write_report(found: Insights, out: Path) -> Path:
    """Writes index.html, its PNG plots, one CSV per table and not_understood.yml to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    plots = {}
    for name, png in charts(found).items():
        (out / f"{name}.png").write_bytes(png)
        plots[name] = f"{name}.png"
    for table in tables(found):
        with (out / f"{table.name}.csv").open("w", encoding="utf-8-sig", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow([column.title + (" (seconds)" if column.kind == "seconds" else "")
                             for column in table.columns])
            writer.writerows([_raw(value, column.kind) for value, column in zip(row, table.columns)]
                             for row in table.rows)
    (out / "not_understood.yml").write_text(nlu_yaml(not_understood_groups(found)), encoding="utf-8")
    page = PAGE.format(period=html.escape(period_text(found)), made=dt.date.today().isoformat(),
                       fragment=_fragment(found, plots))
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


# -- command line ----------------------------------------------------------------------


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-01")


def _days(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (1 or more)")
    return int(text)


def _zone(text: str) -> str:
    try:
        return ZoneInfo(text).key
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a time zone name like Europe/London or Asia/Shanghai")


def period(since: Optional[dt.date], days: Optional[int],
           today: dt.date) -> Tuple[Optional[dt.date], Optional[dt.date]]:
    """[since, until) from the options: --since and --days, or the last --days days up to today."""
    if since and days:
        return since, since + dt.timedelta(days=days)
    if days:
        return today - dt.timedelta(days=days - 1), today + dt.timedelta(days=1)
    return since, None


def main(argv: Optional[List[str]] = None, say: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(prog="python -m staff.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write (default results/report/)")
    parser.add_argument("--since", type=_day, help="first day, YYYY-MM-DD (default: the first stored message)")
    parser.add_argument("--days", type=_days, help="number of days (from --since, or up to today)")
    parser.add_argument("--timezone", type=_zone,
                        help="time zone of the days (default: the clinic's, in content/clinic.yml)")
    options = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        timezone = options.timezone or clinic_timezone()  # loads content/: a broken file is named here
    except ContentError as error:
        say(f"Could not read the content files: {error}")
        return 1
    try:
        engine = store.engine(store.database_url())
        if engine.dialect.name == "sqlite" and not Path(engine.url.database or "").is_file():
            say(f"No conversations stored yet: {engine.url.database} does not exist. Start the assistant first.")
            return 1
        engine.connect().close()  # an unreachable database is named as such, not as a missing index
        try:
            insights.ensure_indexes(engine)
        except sa.exc.DBAPIError as error:
            say(f"Note: could not add the report's indexes ({_first_line(error)}); the report may be slower.")
        since, until = period(options.since, options.days, dt.datetime.now(ZoneInfo(timezone)).date())
        found = insights.build(engine, since, until, timezone)
    except (sa.exc.DBAPIError, ValueError) as error:
        say(f"Could not read the tracker store: {_first_line(error)}")
        return 1
    try:
        index = write_report(found, options.out)
    except OSError as error:
        say(f"Could not write the report to {options.out}: {error.strerror or error}")
        return 1
    say(f"Wrote {index}: {found.conversations:,} conversations, {found.questions:,} questions, "
        f"{_percent(found.fallback_rate)} not understood, {found.hand_offs.handed_off:,} hand-offs "
        f"({time.perf_counter() - started:.1f} s).")
    return 0


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
