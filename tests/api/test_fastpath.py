"""The generated fast path builds the same objects ``__init__`` would, and refuses classes
whose ``__init__`` does more than store fields (it would silently skip that work)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from agentbot.api import EMPTY_MAPPING, ChatDeleted, ChatMessageReceived, Group, decode_event
from agentbot.api.fastpath import _generate, fast_hook

from .examples import EVENTS


@attrs.frozen(kw_only=True)
class WithValidator:
    value: int = attrs.field(validator=attrs.validators.gt(0))


@attrs.frozen(kw_only=True)
class WithFactory:
    values: tuple[int, ...] = attrs.field(factory=tuple)


@attrs.frozen(kw_only=True)
class WithPostInit:
    value: int

    def __attrs_post_init__(self) -> None:
        pass


@attrs.frozen(kw_only=True, slots=False)
class WithoutSlots:
    value: int


@pytest.mark.parametrize("cl", [WithValidator, WithFactory, WithPostInit, WithoutSlots])
def test_classes_whose_init_does_more_are_refused(cl: type[Any]) -> None:
    with pytest.raises(TypeError):
        _generate(cl)


def test_types_without_a_rule_are_refused() -> None:
    with pytest.raises(TypeError, match="no structure rule"):
        fast_hook(set[int])


def test_decoded_objects_are_the_objects_init_builds() -> None:
    event = decode_event("chat.deleted", {"chatId": "c1"})
    built = ChatDeleted(chat_id="c1")
    assert event == built
    assert hash(event) == hash(built)
    assert repr(event) == repr(built) == "ChatDeleted(chat_id='c1', extra={})"
    assert event.extra is EMPTY_MAPPING
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.chat_id = "c2"  # type: ignore[misc]


def test_every_field_is_set_even_when_absent() -> None:
    event = decode_event("chat.message_received", EVENTS["chat.message_received"])
    assert isinstance(event, ChatMessageReceived)
    for cl_object in (event, event.message, event.message.content):
        for a in attrs.fields(type(cl_object)):
            getattr(cl_object, a.name)  # an unset slot would raise AttributeError


def test_models_without_unhashable_fields_can_go_in_a_set() -> None:
    assert len({Group(key="g1", name="Support"), Group(key="g1", name="Support")}) == 1
    with_extra = Group(key="g1", name="Support", extra={"x": 1})
    assert hash(with_extra) == hash(Group(key="g1", name="Support"))  # extra: not hashed
    assert with_extra != Group(key="g1", name="Support")  # …but compared
