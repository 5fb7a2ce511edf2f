"""The clinic's side: the staff console (a web app) and the insights report.

Both read conversations from the tracker store's own database (staff/store.py)
and change them only through Rasa's HTTP API. What they rely on in the store:

- a hand-off is the `action_hand_off` action followed by a `pause` event; a
  conversation waits for a person while its latest `pause` is newer than its
  latest `resume`;
- a staff reply is a `bot` event whose metadata holds {"staff": <username>};
- handing back is a `resume` event followed by `action_hand_back`;
- slots `warned` (warning-sign ids), `topic`, `feedback` ({"topic", "helpful"}),
  `check_answers` and `language` are set by the actions;
- `action_suggest_topics` answers a message the assistant did not understand.
"""
