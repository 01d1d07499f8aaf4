"""The referral workflow in one place: which status may follow which, and who may make the change.

=========================  ==========================================  =====================================
from                       to                                          by
=========================  ==========================================  =====================================
draft                      submitted, withdrawn                        the referring physician
submitted                  accepted, returned_for_information          a coordinator
submitted                  withdrawn                                   the referring physician
returned_for_information   submitted, withdrawn                        the referring physician
accepted                   assigned (by assigning experts),            a coordinator
                           returned_for_information
assigned                   in_review                                   an assigned expert
in_review                  concluded (once the conclusion is written)  an assigned expert
accepted, assigned,        withdrawn                                   the referring physician
in_review
concluded                  closed                                      a coordinator
closed, withdrawn          (final)
=========================  ==========================================  =====================================

An admin holds every permission and may make every change. docs/referrals.md has the same table (a test
checks that the two agree).
"""

from __future__ import annotations

from raredx.registry.errors import IllegalTransitionError
from raredx.registry.schemas import REFERRAL_STATUSES, URGENCIES
from raredx.registry.security import Permission

_REFER, _TRIAGE, _REVIEW = Permission.REFER, Permission.TRIAGE, Permission.REVIEW

# status -> {next status: the permission (and relation to the referral, see Registry._relation) it needs}
TRANSITIONS: dict[str, dict[str, Permission]] = {
    "draft": {"submitted": _REFER, "withdrawn": _REFER},
    "submitted": {"accepted": _TRIAGE, "returned_for_information": _TRIAGE, "withdrawn": _REFER},
    "returned_for_information": {"submitted": _REFER, "withdrawn": _REFER},
    "accepted": {"assigned": _TRIAGE, "returned_for_information": _TRIAGE, "withdrawn": _REFER},
    "assigned": {"in_review": _REVIEW, "withdrawn": _REFER},
    "in_review": {"concluded": _REVIEW, "withdrawn": _REFER},
    "concluded": {"closed": _TRIAGE},
    "closed": {},
    "withdrawn": {},
}
EDITABLE = frozenset({"draft", "returned_for_information"})  # the referrer may change the referral itself
OPEN = frozenset({"submitted", "accepted", "assigned", "in_review"})  # the centre's to answer: may be overdue
CONTRIBUTING = frozenset(set(REFERRAL_STATUSES) - {"closed", "withdrawn"})  # messages and attachments welcome
FINAL = frozenset(s for s, nexts in TRANSITIONS.items() if not nexts)


def allowed_from(status: str) -> tuple[str, ...]:
    """The statuses a referral in ``status`` may go to (by someone)."""
    return tuple(TRANSITIONS.get(status, {}))


__all__ = ["CONTRIBUTING", "EDITABLE", "FINAL", "OPEN", "REFERRAL_STATUSES", "TRANSITIONS", "URGENCIES",
           "IllegalTransitionError", "allowed_from"]
