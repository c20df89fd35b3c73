"""One way to change state: a declared, audited use case.

    LEDGER = Subject(kind="quota_ledger", model=QuotaLedger, region=lambda ledger: ledger.region)

    @use_case(action="quotas.adjust", subject=LEDGER, lock=True)
    def adjust(*, session, ledger, actor, amount, reason) -> Done:
        ...                                  # the change itself, nothing else
        return Done(value=ledger, reason=reason, inputs={"amount": amount})

    adjust(session=session, ledger=ledger_id, actor=officer, amount=10, reason="...")   # how it is called

A call then always goes the same way:
1. the actor must be an `Actor` (`core.actor`): a plain string or anything else is refused (403);
2. the subject is loaded by id (404 when missing), under a row lock when the use case says so;
3. the action is authorised for the actor's role **and** the subject's region, against the one
   permission table (`accounts.policy`); the region comes from the subject kind's one region
   rule (`Subject.region`), or, for a use case without a subject, from its `region` argument;
4. the body runs;
5. the audit entry is written from what the body returned (`Done`), in the same transaction and
   last, so that the lock order of `locking` holds and the entry exists exactly when the change does.

Every use case is listed in `USE_CASES` (name → action, subject kind, audit action), which the
architecture page and the tests read.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from regionvisa.accounts.policy import ACTIONS, authorize
from regionvisa.audit.service import record
from regionvisa.core.actor import ensure_actor
from regionvisa.core.errors import NotFound
from regionvisa.locking import lock_row


@dataclass(frozen=True)
class Subject:
    """A kind of thing use cases act on, and the one rule saying which region it belongs to."""

    kind: str  # the audit log's subject type, e.g. "application"
    model: type  # its ORM class
    region: Callable[[Any], str | None]  # the region rule of this kind (None: national)
    label: str = ""  # what a 404 calls it ("application 42"); defaults to the kind
    touch: str | None = None  # a non-key column `locking.lock_row` may touch to lock the row

    def load(self, session: Any, ident: Any, *, lock: bool) -> Any:
        if lock:
            if self.touch is None:
                raise TypeError(f"{self.kind}: a locked subject needs `touch` (a non-key column)")
            row = lock_row(session=session, model=self.model, ident=ident, touch=self.touch)
        else:
            row = session.get(self.model, ident)
        if row is None:
            raise NotFound(what=f"{self.label or self.kind.replace('_', ' ')} {ident}")
        return row

    def ident(self, row: Any) -> Any:
        """The row's primary key, as the audit log names the subject."""
        return getattr(row, self.model.__mapper__.primary_key[0].key)


@dataclass(frozen=True)
class Done:
    """What a use case returns: its value, and what the audit entry must say about it."""

    reason: str
    value: Any = None
    inputs: Mapping[str, Any] | None = None
    subject: tuple[str, Any] | None = None  # default: (kind, id) of the loaded subject
    action: str | None = None  # the audit action when it is not the policy action
    region: str | None = None  # default: the subject's region (or the `region` argument)
    changed: bool = True  # False: nothing changed (a repeated request), so nothing is recorded
    # entries the change set off, recorded after the main one in this order, each as the keyword
    # arguments of `audit.service.record` (an application approved at once under the simplified
    # procedure by its own system actor, the automatic screening of a submission)
    then: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class UseCase:
    name: str
    action: str
    subject: str | None
    audit_action: str | None
    doc: str = field(default="", compare=False)


USE_CASES: dict[str, UseCase] = {}


def use_case(
    *,
    action: str | Callable[[Any, Any, dict], str],
    subject: Subject | None = None,
    subject_arg: str | None = None,
    lock: bool = False,
    audit: str | None = None,
    own_transaction: bool = False,
) -> Callable[[Callable[..., Done]], Callable[..., Any]]:
    """Declare a state change (see the module docstring).

    - `action`: the policy action, or a function (actor, subject, keyword arguments) -> action
      where the call decides it (one's own password is `account.self`, someone else's
      `users.manage`; an application's move names its action in the life-cycle table).
    - `subject_arg`: the keyword that carries the subject (its id or the row itself); without it,
      the subject is the body's second parameter, right after the session. Bodies are keyword-only.
    - `audit`: the audit action when it differs from the policy action.
    - `own_transaction`: the body runs its own transaction(s) on the engine it is given first (a
      bulk load, whose entry must be in the load's transaction); it is called with `entry=`, a
      function (connection or session, Done) writing the audit entry there, and returns its value
      itself. Returning without having written the entry is a defect (TypeError).

    A region rule may name several regions (a design that would move a programme to another
    region names both): the action is authorised in each, and the entry's default region is the first.

    The declared function has `.effect(...)`: the same use case carried out as an effect of another
    one that is already authorised (a flow: a committee decision stores the approved design). The
    subject is loaded, the body runs and the entry is written exactly as for a call, and the actor
    must still be an `Actor`; only the authorisation is the calling use case's.
    """
    if isinstance(action, str) and action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}; declare it in accounts.policy.ACTIONS")
    if own_transaction and subject is not None:
        raise TypeError("a use case running its own transaction loads no subject")

    def declare(body: Callable[..., Done]) -> Callable[..., Any]:
        declared = _Declared(body, action, subject, subject_arg, lock, audit, own_transaction)

        @functools.wraps(body)
        def run(*, actor: Any, **kwargs: Any) -> Any:
            return declared.call(kwargs, actor=actor, authorise=True)

        def effect(*, actor: Any, **kwargs: Any) -> Any:
            return declared.call(kwargs, actor=actor, authorise=False)

        shown = action if isinstance(action, str) else f"{action.__name__}()"
        doc = (body.__doc__ or "").strip()
        USE_CASES[declared.name] = UseCase(declared.name, shown, subject.kind if subject else None, audit, doc)
        run.use_case = USE_CASES[declared.name]  # type: ignore[attr-defined]
        run.effect = effect  # type: ignore[attr-defined]
        return run

    return declare


@dataclass
class _Declared:
    """One declared use case: how a call loads, authorises, runs and records (`use_case`)."""

    body: Callable[..., Any]
    action: str | Callable[[Any, Any, dict], str]
    subject: Subject | None
    subject_arg: str | None
    lock: bool
    audit: str | None
    own_transaction: bool
    name: str = ""
    handle: str = ""
    takes_region: bool = False

    def __post_init__(self) -> None:
        self.name = f"{self.body.__module__.removeprefix('regionvisa.')}.{self.body.__name__}"
        parameters = list(inspect.signature(self.body).parameters.values())
        if any(p.kind is not inspect.Parameter.KEYWORD_ONLY for p in parameters):
            raise TypeError(f"{self.name}: a use case takes keyword arguments only")
        self.handle = parameters[0].name  # the session (or, for own_transaction, the engine)
        self.takes_region = "region" in {p.name for p in parameters}
        if self.subject is not None and self.subject_arg is None:
            self.subject_arg = parameters[1].name  # the subject comes right after the handle

    def load(self, session: Any, ident: Any) -> Any:
        subject = self.subject
        assert subject is not None
        if isinstance(ident, subject.model):
            return subject.load(session, subject.ident(ident), lock=True) if self.lock else ident
        return subject.load(session, ident, lock=self.lock)

    def write(self, session: Any, done: Done, *, actor: Any, target: Any, region: str | None) -> None:
        if not done.changed:
            return
        if done.subject is not None:
            entry_subject = done.subject
        elif self.subject is not None:
            entry_subject = (self.subject.kind, self.subject.ident(target))
        else:
            raise TypeError(f"{self.name}: a use case without a subject must name it in Done.subject")
        record(
            session=session,
            actor=actor,
            action=done.action or self.audit or (self.action if isinstance(self.action, str) else self.name),
            subject=entry_subject,
            reason=done.reason,
            inputs=done.inputs,
            region=done.region if done.region is not None else region,
        )
        for entry in done.then:
            record(session=session, **entry)

    def call(self, kwargs: dict, *, actor: Any, authorise: bool) -> Any:
        actor = ensure_actor(actor)
        session = kwargs[self.handle]
        subject, target = self.subject, None
        if subject is not None:
            assert self.subject_arg is not None
            target = kwargs[self.subject_arg] = self.load(session, kwargs[self.subject_arg])
        # the one region rule of the subject's kind, or the region a subjectless use case names
        named = kwargs.get("region") if self.takes_region else None
        region = subject.region(target) if subject is not None else named
        regions = region if isinstance(region, tuple) else (region,)
        if authorise:
            act = self.action(actor, target, kwargs) if callable(self.action) else self.action
            for one in regions:
                authorize(actor, act, one)
        if self.own_transaction:
            written: list[Done] = []

            def entry(conn: Any, done: Done) -> None:
                self.write(conn, done, actor=actor, target=target, region=regions[0])
                written.append(done)

            value = self.body(actor=actor, entry=entry, **kwargs)
            if not written:
                raise TypeError(f"{self.name} returned without writing its audit entry")
            return value
        done = self.body(actor=actor, **kwargs)
        if not isinstance(done, Done):
            raise TypeError(f"{self.name} must return Done, not {type(done).__name__}")
        self.write(session, done, actor=actor, target=target, region=regions[0])
        return done.value
