"""A plan deleted (in the admin) while someone's request about it is under way: the request
answers 404 "no such plan", as for a plan never seen, never a 500."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.base import BaseTestCase, current_version, make_plan
from wizard.models import AuditEvent, Plan
from wizard.review import access
from wizard.review import services as review

STATES = Path(__file__).resolve().parent / "fixtures" / "states"


def _deleted_after_loading(loader: Callable[..., Any]) -> Callable[..., Any]:
    """Return `loader`, which then deletes the plan it loaded: the request goes on with a plan that is gone."""
    def load(*args: Any, **kwargs: Any) -> Any:
        result = loader(*args, **kwargs)
        plan = result if isinstance(result, Plan) else getattr(result, "plan", None) or result[0]
        Plan.objects.filter(pk=plan.pk).delete()
        return result
    return load


class PlanDeletedMidwayTests(BaseTestCase):
    def setUp(self) -> None:
        self.plan = make_plan()
        self.client.force_login(self.alice)

    def _step_post(self) -> dict[str, Any]:
        page = self.client.get(reverse("plan-step", args=[self.plan.code, "environment"]))
        data = {}
        for form in page.context["forms"].sections.values():
            for bound in ([form.management_form, *form.forms] if hasattr(form, "management_form") else [form]):
                for field in bound:
                    value = field.value()
                    if value not in (None, False):
                        data[field.html_name] = "on" if value is True else value
        data.update(draft_version=current_version(self.plan), step_base=page.context["meta"]["step_base"].value())
        data["pools-0-site"] = "Oslo"
        return data

    def test_a_step_save_and_an_autosave_answer_404(self) -> None:
        for name in ("plan-step", "plan-step-autosave"):
            with self.subTest(name=name):
                self.plan = make_plan()
                data = self._step_post()
                with mock.patch("wizard.web.views.steps.get_editable_plan",
                                _deleted_after_loading(access.get_editable_plan)):
                    response = self.client.post(reverse(name, args=[self.plan.code, "environment"]), data)
                self.assertEqual(response.status_code, 404)
                self.assertNotContains(response, "Saved", status_code=404)

    def test_a_state_file_upload_answers_404(self) -> None:
        state = (STATES / "sfb2019-adfs2019-wap.state.json").read_bytes()
        with mock.patch("wizard.web.views.estate.get_editable_plan", _deleted_after_loading(access.get_editable_plan)):
            response = self.client.post(reverse("plan-estate", args=[self.plan.code]),
                                        {"file": SimpleUploadedFile("state.json", state, "application/json")})
        self.assertEqual(response.status_code, 404)

    def test_review_actions_and_comments_answer_404(self) -> None:
        revision = review.save_revision(self.plan, draft_version=current_version(self.plan), by=self.alice,
                                        message="r1")
        for name, args, data in (("revision-submit", [1], {}), ("revision-comment", [1], {"body": "why?"}),
                                 ("plan-comment", [], {"body": "why?"})):
            with self.subTest(name=name):
                loader = access.load
                with mock.patch("wizard.review.access.load", _deleted_after_loading(loader)):
                    response = self.client.post(reverse(name, args=[self.plan.code, *args]), data)
                self.assertEqual(response.status_code, 404)
                self.plan = make_plan()
                revision = review.save_revision(self.plan, draft_version=current_version(self.plan), by=self.alice,
                                                message="r1")
        self.assertFalse(AuditEvent.objects.filter(action=AuditEvent.Action.COMMENTED).exists())
        del revision
