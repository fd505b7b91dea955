"""The decision pipeline: one `RoutingDecision` per request, and the deployments to try in order.

Order (claude-code-router's, with ccr's additions marked +):
  sticky+ → custom router → explicit provider,model → longContext → subagent tag → rules+ → Router mode+
  → [policy+ with overrideScenarios] → background → webSearch → image → think → policy+
  → alias / configured model name → Router.default
The classifier runs first (once per user turn, cached): its prediction feeds rules, the policy and the log.
A budget over its hard limit blocks the request, or keeps only free deployments (onExceeded: freeOnly).
The chain to try is the chosen target's deployments (by its balancing strategy, healthy first), then the
rule's fallbacks, the scenario's fallback list, and the global fallbackModel.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, cast

from router.budget.learned import Learned
from router.budget.policy import Need, Policy, expected_cost
from router.budget.spend import OK, Spend, Verdict
from router.config.routing import SCENARIOS
from router.config.schema import Config
from router.providers.provider import Providers
from router.routing.custom import CustomRouter
from router.routing.decision import RoutingDecision
from router.routing.deployments import Deployment, Deployments
from router.routing.dispatcher import CallModel, Dispatcher
from router.routing.features import RequestView
from router.routing.rules import match
from router.routing.select import RouteSelector
from router.routing.sticky import TurnCache, TurnChoice
from router.routing.subagent import take_subagent_tag

log = logging.getLogger("ccr.routing")


def _attach(decision: RoutingDecision, labels: asyncio.Future[Any]) -> None:
    if not labels.cancelled() and labels.exception() is None:
        decision.ml = labels.result().to_dict()


class RoutingEngine:
    def __init__(self, config: Config, providers: Providers, call_model: CallModel | None = None,
                 classifier: Any = None, spend: Spend | None = None, learned: Learned | None = None) -> None:
        self.config = config
        self.classifier = classifier  # classifier.runtime.Classifier, or None when it is off
        self.spend = spend if spend is not None and config.budgets.active else None
        self.learned = learned or Learned(config.policy.expected_output_tokens)
        self.policy = Policy(config, self.learned) if config.policy.enabled else None
        self.selector = RouteSelector(config)
        self.deployments = Deployments(config, providers)
        self.turns = TurnCache()
        routing = config.routing
        self.custom: CustomRouter | None = None
        if routing.custom_router_path:
            try:
                self.custom = CustomRouter(routing.custom_router_path, routing.custom_router_timeout_ms)
            except Exception as exc:  # a broken hook must not keep the router from serving
                log.error("custom router not loaded, routing without it: %s: %s", type(exc).__name__, exc)
        self.dispatcher = (Dispatcher(routing.router_mode, self.deployments, call_model)
                           if routing.router_mode and call_model else None)
        # steps that read the token count: it is then computed once, off the event loop, before them
        self.needs_tokens = bool(config.router.long_context or self.dispatcher) or any(
            r.conditions.token_min is not None or r.conditions.token_max is not None
            or (r.conditions.expression is not None and "tokenCount" in r.conditions.expression.names)
            or "longContext" in r.conditions.scenario for r in routing.rules)
        # steps that read the classifier's labels wait for them; otherwise they reach the log when ready
        self.needs_labels = self.policy is not None or any(
            r.conditions.task_type or r.conditions.complexity or (r.conditions.expression is not None and {
                "taskType", "complexity", "difficulty"} & set(r.conditions.expression.names)) for r in routing.rules)
        self._threshold_for: tuple[str | None, float] | None = None

    # ---- deciding ----------------------------------------------------------------------------------------

    async def decide(self, view: RequestView, key: str | None = None) -> tuple[RoutingDecision, list[Deployment]]:
        """`key`: the client key's id, for per-key budgets."""
        started = time.perf_counter()
        notes: list[str] = []
        tag = take_subagent_tag(view.body)  # removed on every request, sticky or not
        dispatch: dict[str, Any] | None = None
        extra: tuple[str, ...] = ()
        labels = self._start_labels(view)  # runs in the classifier's thread while routing goes on
        ml = await self._labels(labels, notes) if self.needs_labels else None
        verdict = self.spend.check(key) if self.spend is not None else OK
        policy: dict[str, Any] | None = None
        choice = self.turns.get(view.turn_key) if view.turn_key else None
        if choice is not None:
            target, signal, scenario, extra = choice.target, "sticky", choice.signal, choice.fallback
        else:
            target, signal, extra, dispatch, policy = await self._pipeline(view, tag, notes, ml, verdict)
            scenario = "default" if signal == "policy" else signal
        chain = self._chain(target, scenario, extra, choice.deployment_id if choice else None)
        if view.has_image and chain and chain[0].info is not None and chain[0].info.blind:
            chain = self._for_images(chain, notes)
            target = chain[0].target
        expected = self._expected_cost(chain, view, ml)
        reserved = 0.0
        if self.spend is not None:
            # the caps again, and the expected cost counted against them, in one step with no await between it
            # and its use: the check above was made before the awaits of the pipeline
            verdict, reserved = self.spend.reserve(key, expected)
        blocked = None
        if verdict.over:
            free = [d for d in chain if d.info is not None and d.info.free]
            if self.config.budgets.on_exceeded == "freeOnly" and free:
                chain = free
                notes.append(f"{verdict.message} Only free models are used until then.")
            else:
                blocked = verdict.message
        elif verdict.state == "soft":
            notes.append(f"budget: {verdict.message}")
        features = view.summary()
        if policy is not None:
            features["policy"] = policy
        decision = RoutingDecision(
            target=target, signal=signal, candidates=[d.id for d in chain], features=features, fallback=extra,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 3), session=view.session,
            turn=view.turn_key, notes=notes, dispatcher=dispatch, ml=ml.to_dict() if ml is not None else None,
            expected_cost=expected, blocked=blocked, prompt_id=view.prompt_id, reserved=reserved,
        )
        if ml is None and labels is not None:  # not needed to decide: the log gets them once they are ready
            if labels.done():
                _attach(decision, labels)
            else:
                decision.labels = labels
                labels.add_done_callback(lambda done: _attach(decision, done))
        return decision, chain

    def _start_labels(self, view: RequestView) -> asyncio.Future[Any] | None:
        """The classifier's prediction for this turn: computed on its first request, shared by the rest."""
        if self.classifier is None or not self.classifier.ready or view.prompt_id is None:
            return None
        from classifier.features import Conversation

        return cast("asyncio.Future[Any]", self.classifier.predict(
            view.prompt_id, view.prompt, lambda: Conversation(view.depth, view.tool_rounds, view.estimated_tokens)))

    async def _labels(self, labels: asyncio.Future[Any] | None, notes: list[str]) -> Any:
        if labels is None:
            return None
        wait = self.config.classifier.wait_ms
        try:
            if not labels.done():  # a turn's later rounds find them done: no timer
                # shielded: one request leaving (or giving up on it) must not cancel the turn's prediction
                await asyncio.wait_for(asyncio.shield(labels), wait / 1000)
            return labels.result()
        except TimeoutError:  # the log still gets the labels when they come
            notes.append(f"classifier busy: its labels were not ready in {wait} ms (Classifier.waitMs); "
                         "routed without them")
            return None
        except Exception as exc:  # the router keeps routing by its rules
            log.error("classifier failed on this turn: %s: %s", type(exc).__name__, exc)
            notes.append(f"classifier failed: {type(exc).__name__}: {exc}")
            return None

    def _expected_cost(self, chain: list[Deployment], view: RequestView, ml: Any) -> float | None:
        info = chain[0].info if chain else None
        if info is None or info.pricing is None:
            return None
        return round(expected_cost(self.learned, chain[0].target, info, view.estimated_tokens,
                                   ml.task_type if ml is not None else None), 8)

    def remember(self, view: RequestView, decision: RoutingDecision, deployment: Deployment) -> None:
        """The deployment that answered serves the rest of this turn."""
        if view.turn_key:
            signal = decision.signal
            if signal == "sticky":
                previous = self.turns.get(view.turn_key)
                signal = previous.signal if previous else "default"
            self.turns.put(view.turn_key, TurnChoice(decision.target, deployment.id, signal, decision.fallback))

    def _in_scenario(self, view: RequestView) -> Callable[[str], bool]:
        threshold = self.config.router.long_context_threshold
        checks: dict[str, Callable[[], bool]] = {
            "default": lambda: True,
            "background": lambda: "haiku" in view.model.lower(),
            "think": lambda: view.thinking,
            "longContext": lambda: view.token_count > threshold,
            "webSearch": lambda: view.web_search,
            "image": lambda: view.has_image,
        }
        return lambda name: checks[name]()

    def _valid_target(self, target: str) -> bool:
        if target in self.config.routing.groups:
            return True
        provider, comma, _ = target.partition(",")
        return bool(comma) and provider in self.config.providers

    async def _pipeline(self, view: RequestView, tag: str | None, notes: list[str], ml: Any, verdict: Verdict
                        ) -> tuple[str, str, tuple[str, ...], dict[str, Any] | None, dict[str, Any] | None]:
        if self.custom is not None:
            answer, note = await self.custom(view.body, lambda: self._hook_context(view))
            if note:
                notes.append(note)
            if answer:
                if self._valid_target(answer):
                    return answer, "custom", (), None, None
                notes.append(f"custom router chose {answer!r}, which is not configured; ignored")
        explicit = self.selector.explicit(view.model)
        if explicit is not None:
            return explicit.target, "explicit", (), None, None
        router = self.config.router
        in_scenario = self._in_scenario(view)
        if self.needs_tokens or self.policy is not None:
            await view.count_tokens()
        if router.long_context and in_scenario("longContext"):
            return router.long_context, "longContext", (), None, None
        if tag:
            if self._valid_target(tag):
                return tag, "subagent", (), None, None
            notes.append(f"subagent tag names {tag!r}, which is not configured; ignored")
        labels = ml.to_dict() if ml is not None else None
        for rule in self.config.routing.rules:
            matched, skipped = match(rule, view, in_scenario, labels)
            if skipped:
                notes.append(skipped)
            if matched:
                return rule.target, f"rule:{rule.name}", rule.fallback, None, None
        dispatch = None
        if self.dispatcher is not None:
            chosen, dispatch = await self.dispatcher.choose(view)
            if chosen:
                return chosen, f"router_mode:{dispatch['route']}", (), dispatch, None
            notes.append(f"Router mode gave no route ({dispatch.get('error')}); rules decided")
        policy = self._policy_step(view, ml, verdict, notes) if self.config.policy.override_scenarios else None
        if policy is not None and policy[0]:
            return policy[0], "policy", policy[1], dispatch, policy[2]
        for name, target in (("background", router.background), ("webSearch", router.web_search),
                             ("image", router.image), ("think", router.think)):
            if target and in_scenario(name):
                return target, name, (), dispatch, None
        if policy is None:
            policy = self._policy_step(view, ml, verdict, notes)
        if policy is not None and policy[0]:
            return policy[0], "policy", policy[1], dispatch, policy[2]
        route = self.selector.named(view.model) or self.selector.default(view.model)
        return route.target, route.reason, (), dispatch, policy[2] if policy else None

    def _policy_step(self, view: RequestView, ml: Any, verdict: Verdict, notes: list[str]
                     ) -> tuple[str | None, tuple[str, ...], dict[str, Any]] | None:
        if self.policy is None:
            return None
        if ml is None:
            state = self.classifier.state if self.classifier is not None else "off"
            if state != "ready":  # when ready, the failure itself is already noted
                notes.append(f"policy skipped: the classifier is {state}")
            return None
        need = Need(tools=bool(view.body.get("tools")), vision=view.has_image, reasoning=view.needs_reasoning,
                    input_tokens=view.token_count)
        # an uncertain task type does not pick per-task tiers: the models' own tiers decide
        choice = self.policy.choose(need, None if ml.uncertain else ml.task_type, ml.complexity, ml.difficulty,
                                    self._threshold(),
                                    soft=verdict.state == "soft",
                                    free_only=verdict.over and self.config.budgets.on_exceeded == "freeOnly")
        if choice.note:
            notes.append(choice.note)
        return choice.target, choice.fallback, choice.summary()

    def _threshold(self) -> float:
        p = self.config.policy
        if p.difficulty_threshold is not None:
            return p.difficulty_threshold
        if p.strong_share is None or self.classifier is None:
            return 0.5
        version = self.classifier.version
        if self._threshold_for is None or self._threshold_for[0] != version:  # once per loaded model
            from classifier.model import threshold_for_share

            try:
                threshold = threshold_for_share(self.classifier.meta, p.strong_share)
            except (KeyError, IndexError, TypeError):
                log.warning("classifier %s has no difficulty quantiles; strongShare uses 0.5", version)
                threshold = 0.5
            self._threshold_for = (version, threshold)
        return self._threshold_for[1]

    def _hook_context(self, view: RequestView) -> dict[str, Any]:
        return {
            "model": view.model, "session": view.session, "prompt": view.prompt, "tokenCount": view.token_count,
            "toolRounds": view.tool_rounds, "thinking": view.thinking,
            "providers": {n: list(p.models) for n, p in self.config.providers.items()},
            "groups": list(self.config.routing.groups),
            "router": asdict(self.config.router),
        }

    # ---- the chain to try --------------------------------------------------------------------------------

    def _for_images(self, chain: list[Deployment], notes: list[str]) -> list[Deployment]:
        """The turn's latest message holds an image and the chosen model is known not to read images: this
        request goes to Router.image, else to the first model of the chain, else of the config, that reads them
        (stickiness and an explicit `/model` notwithstanding: the model would answer a 400, or not see it)."""
        blind = chain[0].target
        seeing = [d for d in chain if d.info is None or not d.info.blind]
        image = self.config.router.image
        if image:
            seeing = [d for d in self.deployments.order(image) if d.info is None or not d.info.blind] + seeing
        if not seeing:
            seeing = [d for p in self.config.providers.values() for m, info in p.models.items()
                      if info.capabilities_known and info.capabilities.vision
                      for d in self.deployments.order(f"{p.name},{m}")]
        if not seeing:
            notes.append(f"image: {blind} cannot read images and no configured model is known to; sent as chosen")
            return chain
        notes.append(f"image: {blind} cannot read images; this request goes to {seeing[0].target}")
        ordered: dict[str, Deployment] = {}
        for dep in [*seeing, *chain]:
            ordered.setdefault(dep.id, dep)
        return list(ordered.values())

    def _chain(self, target: str, scenario: str, extra: tuple[str, ...], sticky: str | None) -> list[Deployment]:
        routing = self.config.routing
        scenario = scenario if scenario in SCENARIOS else "default"
        targets = [target, *extra, *routing.fallback.get(scenario, ()), *routing.fallback_model]
        chain: list[Deployment] = []
        seen: set[str] = set()
        for t in targets:
            for dep in self.deployments.order(t):
                if dep.id not in seen:
                    seen.add(dep.id)
                    chain.append(dep)
        if sticky is not None:
            kept = next((d for d in chain if d.id == sticky), None)
            if kept is not None and kept.breaker.healthy:
                chain.remove(kept)
                chain.insert(0, kept)
        return chain
