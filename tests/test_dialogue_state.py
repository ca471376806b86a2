"""The dialogue state's stored form: what one message leaves for the next."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.dialogue import DialogueState

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
KNOWN = ("misses", "abuse_warnings", "restricted", "extra")


def test_the_stored_form_puts_extra_beside_the_known_fields() -> None:
    state = DialogueState(misses=2, abuse_warnings=1, restricted=True, extra={"orders": {"n": 1}})
    assert state.to_dict() == {
        "orders": {"n": 1},
        "misses": 2,
        "abuse_warnings": 1,
        "restricted": True,
    }
    assert state.to_dict() is not state.to_dict()  # a new dictionary each time


@given(
    st.integers(0, 9),
    st.integers(0, 9),
    st.booleans(),
    st.dictionaries(st.text(max_size=12).filter(lambda key: key not in KNOWN), JSON, max_size=4),
)
def test_a_state_reads_back_as_it_was_stored(
    misses: int, warnings: int, restricted: bool, extra: dict[str, object]
) -> None:
    state = DialogueState(misses, warnings, restricted, extra)
    assert DialogueState.from_dict(state.to_dict()) == state
