"""Client SDKs for zhangben's APIs."""

from zhangben.sdk.shopex import (
    AsyncShopexClient,
    InvalidParams,
    PermissionDenied,
    ReplayError,
    ServerError,
    ShopexClient,
    ShopexError,
    SignatureError,
    TimestampError,
    Unavailable,
    UnknownFlag,
    UnknownMethod,
)

__all__ = [
    "AsyncShopexClient",
    "InvalidParams",
    "PermissionDenied",
    "ReplayError",
    "ServerError",
    "ShopexClient",
    "ShopexError",
    "SignatureError",
    "TimestampError",
    "Unavailable",
    "UnknownFlag",
    "UnknownMethod",
]

from zhangben.sdk.rest import ApiError, RestClient  # noqa: E402

__all__ += ["ApiError", "RestClient"]
