"""The pims SDK (PIMS Service Activation Steps) for Python, over its Rust core.

The mobile SDK's calls with dicts::

    import pims
    p = pims.Pims()
    p.initialize({"environnement": "http://127.0.0.1:8080", "credential": "demo-token",
                  "profile": "demo-user"})
    p.get("pims.subscription.steps",
          {"carAssociationID": "987654", "resetSteps": False, "stepsStatus": "all"},
          lambda message: print(message))
    message = await p.get_async("pims.subscription.step", {"stepsID": "132324"})

The four verbs never raise: a failure arrives as a FAILED message. Callbacks run on a pims
thread, not the caller's: in asyncio code hand them to the loop with ``call_soon_threadsafe``.
The typed calls (``steps``, ``next_step``, ``services``, ``device_id``, the cache) are
``async def`` and raise ``PimsError.Failed`` (``code``, ``label``, ``remedy``).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Mapping, Optional

from . import pims_ffi as _ffi
from .pims_ffi import (  # noqa: F401  (re-exported)
    CacheHealth,
    CacheScope,
    CacheState,
    CachedListInfo,
    CacheWipe,
    FailureKind,
    JsonValue,
    PimsCore,
    PimsError,
    Service,
    Step,
    StepsAnswer,
    StepsFilter,
    StepsSelector,
    StepStatus,
)

#: A message in its dictionary form: ``transactionId``, ``status``, and ``result`` or ``error``.
Message = Dict[str, Any]

_I64 = range(-(2**63), 2**63)
# What the core refuses with FAILED 2102 naming the parameter (JSON has no NaN).
_NOT_JSON = JsonValue.JSON_FLOAT(math.nan)


def to_json(value: Any) -> JsonValue:
    """A Python value as JSON: None, bool, int (64 bits), float, str, mappings, lists and
    tuples. Anything else becomes a value the core refuses (FAILED 2102 naming the parameter):
    the verbs never raise."""
    if value is None:
        return JsonValue.JSON_NULL()
    if isinstance(value, JsonValue):
        return value
    if isinstance(value, bool):
        return JsonValue.JSON_BOOL(value)
    if isinstance(value, int):
        return JsonValue.JSON_INT(value) if value in _I64 else _NOT_JSON
    if isinstance(value, float):
        return JsonValue.JSON_FLOAT(value)
    if isinstance(value, str):
        return JsonValue.JSON_TEXT(value)
    if isinstance(value, Mapping):
        return JsonValue.JSON_OBJECT(
            [_ffi.JsonMember(key=str(k), value=to_json(v)) for k, v in value.items()]
        )
    if isinstance(value, (list, tuple)):
        return JsonValue.JSON_ARRAY([to_json(v) for v in value])
    return _NOT_JSON


def from_json(value: JsonValue) -> Any:
    """JSON as Python: None, bool, int, float, str, list, and dict (keys in order)."""
    if value.is_json_null():
        return None
    if value.is_json_object():
        return {m.key: from_json(m.value) for m in value.members}
    if value.is_json_array():
        return [from_json(v) for v in value.items]
    return value.value


def parse_json(text: str) -> Any:
    """Reads JSON text; raises ``PimsError.Failed`` (2102) when it is not JSON."""
    return from_json(_ffi.json_parse(text))


def render_json(value: Any) -> str:
    """Writes a value as compact JSON text, keys in order."""
    return _ffi.json_render(to_json(value))


def _parameters(parameters: Optional[Mapping[str, Any]]) -> Dict[str, JsonValue]:
    return {str(k): to_json(v) for k, v in (parameters or {}).items()}


def _message(message: _ffi.PimsMessage) -> Message:
    return from_json(message.envelope)


class _Callback(_ffi.MessageCallback):
    """The generated callback, calling a Python callable with the dict form."""

    def __init__(self, callback: Callable[[Message], Any]):
        self._callback = callback

    def on_message(self, message: _ffi.PimsMessage) -> None:
        self._callback(_message(message))


class Pims:
    """The PIMS facade: one per user; thread-safe."""

    def __init__(self) -> None:
        #: The generated object, for what this layer does not wrap.
        self.core = PimsCore()

    def initialize(self, parameters: Mapping[str, Any]) -> Message:
        """``initialize`` with the mobile SDK's dictionary: SUCCEEDED, or FAILED with why."""
        return _message(self.core.initialize(_parameters(parameters)))

    @property
    def is_initialized(self) -> bool:
        """Whether the facade is initialised (and not released)."""
        return self.core.is_initialized()

    def release(self) -> None:
        """Releases the facade: every later call answers 2001."""
        self.core.release()

    def get(self, api: str, parameters: Mapping[str, Any], callback: Callable[[Message], Any]) -> None:
        """``get``: ``callback`` gets exactly one message, on a pims thread."""
        self.core.get(api, _parameters(parameters), _Callback(callback))

    def set(self, api: str, parameters: Mapping[str, Any], callback: Callable[[Message], Any]) -> None:
        """``set``: ``callback`` gets exactly one message, on a pims thread."""
        self.core.set(api, _parameters(parameters), _Callback(callback))

    def subscribe(self, api: str, parameters: Mapping[str, Any], callback: Callable[[Message], Any]) -> None:
        """``subscribe``: the acknowledgement, then one RESULT message per event."""
        self.core.subscribe(api, _parameters(parameters), _Callback(callback))

    def unsubscribe(self, api: str, callback: Callable[[Message], Any]) -> None:
        """``unsubscribe``: ``callback`` gets exactly one message."""
        self.core.unsubscribe(api, _Callback(callback))

    async def get_async(self, api: str, parameters: Optional[Mapping[str, Any]] = None) -> Message:
        """The ``async`` form of ``get``."""
        return _message(await self.core.get_async(api, _parameters(parameters)))

    async def set_async(self, api: str, parameters: Optional[Mapping[str, Any]] = None) -> Message:
        """The ``async`` form of ``set``."""
        return _message(await self.core.set_async(api, _parameters(parameters)))

    async def steps(
        self, selector: StepsSelector, status: StepsFilter = StepsFilter.ALL, reset: bool = False
    ) -> StepsAnswer:
        """The merged step list (typed)."""
        return await self.core.steps(selector, status, reset)

    async def next_step(self, steps_id: str) -> Optional[Step]:
        """The next step to do, ``None`` when every step is done."""
        return await self.core.next_step(steps_id)

    async def services(self, vin: str) -> List[Service]:
        """The connected services of a vehicle."""
        return await self.core.services(vin)

    async def device_id(self) -> str:
        """This installation's device id."""
        return await self.core.device_id()

    def cache_health(self) -> CacheHealth:
        """Whether the step cache works."""
        return self.core.cache_health()

    async def cached_lists(self, scope: CacheScope = CacheScope.ACCOUNT) -> List[CachedListInfo]:
        """The lists in the step cache."""
        return await self.core.cached_lists(scope)

    async def wipe_cache(self, scope: CacheScope = CacheScope.ACCOUNT) -> CacheWipe:
        """Wipes the step cache (the device id stays)."""
        return await self.core.wipe_cache(scope)
