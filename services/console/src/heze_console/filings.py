"""The assessment applications a trainee filed through this console, by trainee id.

The assessment service lets a trainee read an application by its id but not list their own
(`GET /applications` is for the evaluation institutions, the province and auditors), so the
console remembers the ids the service answered when the trainee applied. Ids only, nothing
personal, in this process's memory like the sessions: a restart forgets them (the trainee then
sees an application again once they apply for it anew: the service answers `already_applied`
with its id, which is remembered too). A listing for the trainee in the assessment service would
make this unnecessary."""

from __future__ import annotations

from collections import OrderedDict


class Filings:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self.by_trainee: OrderedDict[str, list[str]] = OrderedDict()

    def remember(self, trainee_id: str, application_id: str) -> None:
        filed = self.by_trainee.setdefault(trainee_id, [])
        if application_id not in filed:
            filed.append(application_id)
        self.by_trainee.move_to_end(trainee_id)
        while len(self.by_trainee) > self.capacity:
            self.by_trainee.popitem(last=False)  # the longest unused goes first

    def of(self, trainee_id: str) -> list[str]:
        return list(self.by_trainee.get(trainee_id, []))
