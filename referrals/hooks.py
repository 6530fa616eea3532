"""Where the apps plug into the dossier's workflow, so that layers import one way only.

Lower apps (referrals, cidff, parquet) announce what happened; higher apps (deadlines,
notifications) register, in their `AppConfig.ready()`, what to do about it:

- `on_transition(handler)`: called inside every transition, under the dossier's lock, after the
  write — `handler(referral=, transition=, actor=)` (deadlines re-sync here).
- `on_notice(handler)`: `tell()` hands it the people to tell — `handler(referral=, kind=, audiences=,
  users=, deadline=)` (notifications deliver here).
- `on_fact(handler)`: `record_fact()` hands it facts of the measure that open or meet deadlines
  (a missed device test, the beneficiary reached) — `handler(referral=, fact=, **data)`.

And the apps that know a date register it for the deadline engine:

- `deadline_rule(fn)`: `fn(referral, now) -> {(kind, days_before): (due_at, reference_date)}`, what the
  dossier as it stands asks to watch;
- `automatic_step(kind, fn)`: `fn(referral=, now=)`, what Vigie does itself when a deadline of `kind`
  falls due (open the re-evaluation, end the measure at its term);
- `guard(action, fn)`: `fn(user=, referral=, action=) -> bool`, whether a transition can be offered now.

Handlers run in registration order; registration is idempotent (the same function twice counts once).
"""

from collections import defaultdict

_handlers: dict[str, list] = defaultdict(list)
_steps: dict[str, object] = {}
_guards: dict[str, list] = defaultdict(list)


def _register(name: str, handler) -> None:
    if handler not in _handlers[name]:
        _handlers[name].append(handler)


def on_transition(handler):
    _register("transition", handler)
    return handler


def on_notice(handler):
    _register("notice", handler)
    return handler


def on_fact(handler):
    _register("fact", handler)
    return handler


def deadline_rule(fn):
    _register("deadline_rule", fn)
    return fn


def automatic_step(kind: str, fn) -> None:
    _steps[kind] = fn


def guard(action: str, fn) -> None:
    if fn not in _guards[action]:
        _guards[action].append(fn)


# --- announcing -----------------------------------------------------------------------------------


def transition_done(*, referral, transition, actor) -> None:
    for handler in _handlers["transition"]:
        handler(referral=referral, transition=transition, actor=actor)


def tell(*, referral, kind: str, audiences=(), users=(), deadline=None) -> None:
    """Tell `audiences` of the dossier (and named `users`) about `kind`; only those who may see it hear."""
    for handler in _handlers["notice"]:
        handler(referral=referral, kind=kind, audiences=tuple(audiences), users=tuple(users), deadline=deadline)


def record_fact(*, referral, fact: str, **data) -> None:
    for handler in _handlers["fact"]:
        handler(referral=referral, fact=fact, **data)


# --- asking ---------------------------------------------------------------------------------------


def deadline_rules() -> tuple:
    return tuple(_handlers["deadline_rule"])


def step_for(kind: str):
    return _steps.get(kind)


def guards_pass(action: str, *, user, referral) -> bool:
    return all(fn(user=user, referral=referral, action=action) for fn in _guards[action])
