"""Which provider and model answer a request."""

from router.routing.select import Route, RouteSelector

__all__ = ["Route", "RouteSelector"]
